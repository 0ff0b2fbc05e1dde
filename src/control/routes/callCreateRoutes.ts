import { PlaceCallError } from '../../calls/callErrors.js';
import type { OutboundCalls } from '../../calls/outbound/outboundCalls.js';
import { ApiError } from '../apiError.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import { callCreateSchema } from '../schemas/callCreateSchemas.js';
import { callSchema } from '../schemas/callSchemas.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';

export interface CallCreateRouteDeps {
  outbound: OutboundCalls;
}

const STATUS: Record<PlaceCallError['kind'], number> = {
  unsupported_channel: 422,
  no_outbound_trunk: 422,
  whatsapp_not_enabled: 422,
  concurrency_limit: 429,
  overloaded: 503,
  whatsapp_no_permission: 422,
  provider_error: 502,
};

export function callCreateRoutes(deps: CallCreateRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/calls',
      operationId: 'createCall',
      summary: 'Place an outbound call (app keys only: the call is the key’s app’s)',
      tag: 'calls',
      access: 'appKey',
      body: callCreateSchema,
      responses: {
        201: { description: 'the call, initiated; its progress follows as events', schema: callSchema },
        422: {
          description:
            'no_outbound_trunk (the app has no PSTN trunk, or `from` is not one of its WhatsApp business numbers), whatsapp_not_enabled (the message names the setting) or whatsapp_no_permission (Graph mode: the user gave the business no call permission)',
          schema: errorBodySchema,
        },
        502: {
          description: 'provider_error: the WhatsApp provider failed the call permission check',
          schema: errorBodySchema,
        },
        429: {
          description: 'concurrency_limit: the app has maxConcurrentCalls live calls',
          schema: errorBodySchema,
        },
        503: {
          description:
            'overloaded: the event outbox is full, or the machine is above media.maxCpuUtilization (with Retry-After)',
          schema: errorBodySchema,
        },
      },
      handler: async ({ body, principal, reply }) => {
        if (principal?.role !== 'app')
          throw new ApiError(403, 'forbidden', 'calls are placed with an app key');
        try {
          const call = await deps.outbound.place({ ...body, appId: principal.appId });
          reply.code(201);
          return call;
        } catch (error) {
          if (error instanceof PlaceCallError) {
            if (error.retryAfterSeconds !== undefined)
              reply.header('retry-after', String(error.retryAfterSeconds));
            throw new ApiError(STATUS[error.kind], error.kind, error.message);
          }
          throw error;
        }
      },
    }),
  ];
}
