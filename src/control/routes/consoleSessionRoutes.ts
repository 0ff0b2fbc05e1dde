import { ApiError } from '../apiError.js';
import type { Principal } from '../auth/apiKeys.js';
import type { ConsoleSessions } from '../auth/consoleSessions.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import {
  consoleLinkRequestSchema,
  consoleLinkSchema,
  consoleSessionRequestSchema,
  consoleSessionSchema,
} from '../schemas/consoleSessionSchemas.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';

export interface ConsoleSessionRouteDeps {
  sessions: ConsoleSessions;
}

/**
 * One-time console links (made with a key) and the sessions they open (with the code alone), so
 * the page can be opened by someone who never sees the key. The code travels in the link's
 * fragment, which browsers keep out of requests, logs and Referer headers.
 */
export function consoleSessionRoutes(deps: ConsoleSessionRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/console/links',
      operationId: 'createConsoleLink',
      summary: 'A one-time link that opens the agent console signed in as this key (or one of its apps)',
      tag: 'console',
      access: 'callReader',
      body: consoleLinkRequestSchema,
      responses: {
        201: { description: 'the link', schema: consoleLinkSchema },
        403: { description: "an app key asked for another app's link", schema: errorBodySchema },
      },
      handler: ({ body, principal, reply }) => {
        const link = deps.sessions.createLink(linkPrincipal(principal, body.appId));
        reply.code(201);
        return {
          code: link.code,
          url: `/console#code=${link.code}`,
          expiresAt: link.expiresAt.toISOString(),
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/console/sessions',
      operationId: 'openConsoleSession',
      summary: "Opens a console session with a link's code (once)",
      tag: 'console',
      // The code is the credential; it is good once and for minutes.
      access: 'public',
      body: consoleSessionRequestSchema,
      responses: {
        201: { description: 'the session', schema: consoleSessionSchema },
        401: { description: 'the code is unknown, already used or expired', schema: errorBodySchema },
      },
      handler: ({ body, reply }) => {
        const session = deps.sessions.redeem(body.code);
        if (!session)
          throw new ApiError(
            401,
            'console_link_invalid',
            'this console link is unknown, already used or expired: ask for a new one',
          );
        reply.code(201);
        return {
          token: session.token,
          role: session.principal.role,
          appId: session.principal.role === 'app' ? session.principal.appId : null,
          expiresAt: session.expiresAt.toISOString(),
        };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/console/sessions/current',
      operationId: 'closeConsoleSession',
      summary: 'Signs out the console session whose token authorises this request',
      tag: 'console',
      access: 'callReader',
      responses: {
        204: { description: 'signed out' },
        404: {
          description: 'the request was authorised by an API key, not a console session',
          schema: errorBodySchema,
        },
      },
      handler: ({ request, reply }) => {
        if (!deps.sessions.revoke(request.headers.authorization))
          throw ApiError.notFound(
            'this request holds an API key, not a console session: nothing to sign out',
          );
        return reply.code(204).send();
      },
    }),
  ];
}

/** Whose session a link opens: an app key's own app; an admin's own, or one app's. */
function linkPrincipal(principal: Principal | undefined, appId: string | undefined): Principal {
  if (principal?.role === 'admin') return appId ? { role: 'app', appId } : principal;
  if (principal?.role === 'app') {
    if (appId && appId !== principal.appId)
      throw new ApiError(403, 'forbidden', 'an app key makes console links for its own app only');
    return principal;
  }
  throw new ApiError(403, 'forbidden', 'this endpoint needs an app or admin key');
}
