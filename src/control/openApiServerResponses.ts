import { MAX_PATH_SEGMENT_LENGTH } from './fastifyErrors.js';
import { MAX_BODY_DEPTH } from './jsonBody.js';
import type { ResponseSpec, RouteSpec } from './routeSpec.js';
import { errorBodySchema } from './schemas/errorSchemas.js';

/**
 * The answers the server itself gives for an operation, before or around its handler: key checks
 * (from the route's access), input validation, body limits. Derived from the same declaration the
 * server enforces, so the document lists them for every operation they apply to; a route's own
 * description of the same status wins.
 */
export function serverResponses(route: RouteSpec, bodyLimitBytes: number): Record<number, ResponseSpec> {
  const responses: Record<number, ResponseSpec> = {};
  const error = (description: string): ResponseSpec => ({ description, schema: errorBodySchema });
  if (route.body || route.params || route.query) {
    responses[400] = error(
      route.body
        ? `invalid_request: a field is invalid, named in details; \`body\` when the body is not JSON or is nested deeper than ${MAX_BODY_DEPTH} levels`
        : 'invalid_request: a parameter is invalid, named in details',
    );
  }
  if (route.access !== 'public') {
    responses[401] = error('unauthorized: no API key, or one the gateway does not know');
  }
  if (route.access !== 'public' && route.access !== 'any') {
    responses[403] = error('forbidden: the key may not do this (see x-access)');
  }
  if (route.body) {
    responses[413] = error(`body_too_large: the body is over ${bodyLimitBytes} bytes (http.bodyLimitBytes)`);
  }
  if (route.params) {
    responses[414] = error(`uri_too_long: a path segment is over ${MAX_PATH_SEGMENT_LENGTH} characters`);
  }
  return responses;
}
