import type { Logger } from 'pino';
import { z } from 'zod';
import type { GraphCalls } from '../../signalling/graph/graphCalls.js';
import { graphCallEvents, WebhookPayloadError } from '../../signalling/graph/graphWebhook.js';
import { signingSecret } from '../../signalling/graph/webhookSignature.js';
import { ApiError } from '../apiError.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';

export interface WhatsAppWebhookRouteDeps {
  graph: GraphCalls;
  logger: Logger;
}

const verifyQuerySchema = z.object({
  'hub.mode': z.string().optional(),
  'hub.verify_token': z.string().optional(),
  'hub.challenge': z.string().max(256).optional(),
});

/**
 * Meta's webhook for WhatsApp Graph-mode calls (the same body a control plane may relay). Its
 * key is the signature, not an API key: X-Hub-Signature-256 is checked over the raw body before
 * anything reads it, the 200 goes out at once (Meta retries slow answers), and the events are
 * taken after it.
 */
export function whatsappWebhookRoutes(deps: WhatsAppWebhookRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/whatsapp/webhook',
      operationId: 'verifyWhatsAppWebhook',
      summary: 'Meta’s webhook registration handshake: echoes hub.challenge for a known verify token',
      tag: 'whatsapp',
      access: 'public',
      query: verifyQuerySchema,
      responses: {
        200: { description: 'hub.challenge, as text', contentType: 'text/plain' },
        403: {
          description: 'not a subscribe request with a configured verify token',
          schema: errorBodySchema,
        },
      },
      handler: ({ query, reply }) => {
        const token = query['hub.verify_token'];
        if (query['hub.mode'] !== 'subscribe' || !token || !deps.graph.verifies(token))
          throw new ApiError(403, 'forbidden', 'unknown verify token');
        reply.type('text/plain; charset=utf-8');
        return query['hub.challenge'] ?? '';
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/whatsapp/webhook',
      operationId: 'whatsAppWebhook',
      summary: 'A Cloud API webhook (calls: connect, terminate), signed with the app secret',
      tag: 'whatsapp',
      access: 'public',
      body: z.string().optional().meta({ description: 'The webhook JSON exactly as Meta signed it' }),
      responses: {
        200: {
          description: 'taken; its call events are acted on after this answer, each once',
          schema: z.object({ received: z.int() }).meta({ id: 'WebhookReceipt' }),
        },
        400: { description: 'signed, but not a webhook body', schema: errorBodySchema },
        401: {
          description: 'X-Hub-Signature-256 missing or not by a configured app secret',
          schema: errorBodySchema,
        },
      },
      handler: ({ request, body }) => {
        const raw = body ?? '';
        const header = request.headers['x-hub-signature-256'];
        const secret = signingSecret(
          raw,
          typeof header === 'string' ? header : undefined,
          deps.graph.secrets,
        );
        if (secret === null)
          throw new ApiError(401, 'invalid_signature', 'X-Hub-Signature-256 does not match');
        let parsed: ReturnType<typeof graphCallEvents>;
        try {
          parsed = graphCallEvents(raw);
        } catch (error) {
          if (error instanceof WebhookPayloadError) throw new ApiError(400, 'invalid_request', error.message);
          throw error;
        }
        for (const why of parsed.skipped) deps.logger.warn({ why }, 'webhook entry skipped');
        // Signed with one number's app secret, an event for another number is not believed.
        const events = parsed.events.filter((event) => {
          const ok = deps.graph.signedBy(event.phoneNumberId, secret);
          if (!ok)
            deps.logger.warn(
              { phoneNumberId: event.phoneNumberId },
              'webhook event for a number its signer does not have',
            );
          return ok;
        });
        setImmediate(async () => {
          // One after another: a call's connect acts before the terminate that follows it.
          for (const event of events) {
            try {
              await deps.graph.take(event);
            } catch (error) {
              deps.logger.error({ err: error, wacid: event.wacid }, 'webhook event failed');
            }
          }
        });
        return { received: events.length };
      },
    }),
  ];
}
