import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metricsRegistry.js';
import { ApiError } from './apiError.js';
import type { ApiKeyRing } from './auth/apiKeys.js';
import { RequestAccess } from './auth/requestAccess.js';
import { parseJsonBody } from './jsonBody.js';
import { buildOpenApiDocument } from './openApiDocument.js';
import type { RouteSpec } from './routeSpec.js';
import { openApiRoutes } from './routes/openApiRoutes.js';
import { parseOrThrow } from './validation.js';

export interface HttpServerDeps {
  logger: Logger;
  keys: ApiKeyRing;
  metrics: Metrics;
  routes: readonly RouteSpec[];
  version: string;
  bodyLimitBytes: number;
}

/** Fastify's own errors (body parsing, size limits) in the API's error shape. */
function toApiError(error: FastifyError): ApiError {
  if (error instanceof ApiError) return error;
  const code = error.code ?? '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new ApiError(413, 'body_too_large', 'the request body is too large');
  if (code.startsWith('FST_ERR_CTP') || error instanceof SyntaxError) {
    return ApiError.badRequest([{ field: 'body', message: 'must be a JSON object' }]);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new ApiError(error.statusCode, 'bad_request', error.message);
  }
  return new ApiError(500, 'internal', 'internal error');
}

function routeLabel(request: FastifyRequest): string {
  // The template, never the raw URL: ids in paths would give every request its own time series.
  return request.routeOptions.url ?? 'unmatched';
}

/** The REST API: one fastify instance serving the declared routes, with auth, validation and metrics. */
export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    disableRequestLogging: true,
    bodyLimit: deps.bodyLimitBytes,
    // On close, idle keep-alive sockets go at once; requests in flight are allowed to finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });

  // Every body is read as JSON, whatever its Content-Type: a client that forgets the header gets
  // the same answer as one that sends it, and a body that is not JSON gets a 400 naming `body`.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => {
    try {
      done(null, parseJsonBody(text as string));
    } catch (error) {
      done(error as ApiError, undefined);
    }
  });

  const routes = [...deps.routes, ...openApiRoutes(() => openApi)];
  const openApi = buildOpenApiDocument(routes, { version: deps.version });
  const access = new RequestAccess(deps.keys);

  // While closing, answers to requests in flight end their connection, so close() need not wait
  // for keep-alive sockets to time out.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  // A request for a path no route declares is answered here, before its body is read.
  app.addHook('onRequest', async (request) => {
    if (request.is404) throw ApiError.notFound(`no route ${request.method} ${request.url.split('?')[0]}`);
  });

  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: routeLabel(request), status: String(reply.statusCode) };
    deps.metrics.httpRequests.inc(labels);
    deps.metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    request.log.info(
      {
        method: request.method,
        route: labels.route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(apiError.status).send(apiError.toBody());
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(ApiError.notFound(`no route ${request.method} ${request.url.split('?')[0]}`).toBody()),
  );

  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      onRequest: access.hookFor(route.access),
      handler: async (request, reply) => {
        const rawParams = request.params as Record<string, string>;
        const params = route.params ? parseOrThrow(route.params, rawParams, 'params') : rawParams;
        const query = route.query ? parseOrThrow(route.query, request.query, 'query') : undefined;
        const body = route.body ? parseOrThrow(route.body, request.body, 'body') : undefined;
        const principal = access.principalOf(request);
        return route.handler({ params, body, query, principal, request, reply });
      },
    });
  }
  return app;
}
