import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metricsRegistry.js';
import { AllowedMethods } from './allowedMethods.js';
import { ApiError } from './apiError.js';
import type { Authenticator } from './auth/consoleSessions.js';
import { RequestAccess } from './auth/requestAccess.js';
import { MAX_PATH_SEGMENT_LENGTH, toApiError } from './fastifyErrors.js';
import { parseJsonBody } from './jsonBody.js';
import { answerClientError } from './malformedHttp.js';
import { buildOpenApiDocument } from './openApiDocument.js';
import type { RouteSpec } from './routeSpec.js';
import { openApiRoutes } from './routes/openApiRoutes.js';
import { parseOrThrow } from './validation.js';

/** Routes whose body reaches the handler as the raw text (webhooks signed over their bytes). */
const RAW_BODY_ROUTES = new Set(['/v1/whatsapp/webhook']);

export interface HttpServerDeps {
  logger: Logger;
  /** Who a request's bearer credential belongs to (API keys, console sessions). */
  keys: Authenticator;
  metrics: Metrics;
  routes: readonly RouteSpec[];
  version: string;
  bodyLimitBytes: number;
}

/** The REST API: one fastify instance serving the declared routes, with auth, validation and metrics. */
export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // The onResponse hook below logs each request once; fastify's own two lines would repeat it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT_LENGTH },
    // On close, idle keep-alive sockets go at once; requests in flight are allowed to finish.
    forceCloseConnections: 'idle',
    // fastify's own 503 while closing has its own body shape; the onRequest hook below answers instead.
    return503OnClosing: false,
    // URLs fastify cannot route (bad percent-encoding, an over-long id) answer in the API's shape.
    frameworkErrors: (error, _request, reply) => {
      const apiError = toApiError(error);
      // The option's reply type is generic over route schemas this server does not declare.
      (reply as unknown as FastifyReply).code(apiError.status).send(apiError.toBody());
    },
    clientErrorHandler: answerClientError,
  });
  // Node answers an Expect it does not know with a bare 417; give it the API's shape.
  app.server.on('checkExpectation', (_request, response) => {
    const body = JSON.stringify(
      new ApiError(417, 'expectation_failed', 'only Expect: 100-continue is understood').toBody(),
    );
    response.writeHead(417, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    response.end(body);
  });

  // Every body is read as JSON, whatever its Content-Type: a client that forgets the header gets
  // the same answer as one that sends it, and a body that is not JSON gets a 400 naming `body`.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, text, done) => {
    // A signed body is checked as the bytes that were signed, before anything parses it.
    if (RAW_BODY_ROUTES.has(request.routeOptions.url ?? '')) {
      done(null, text);
      return;
    }
    try {
      done(null, parseJsonBody(text as string));
    } catch (error) {
      done(error as ApiError, undefined);
    }
  });

  const routes = [...deps.routes, ...openApiRoutes(() => openApi)];
  const openApi = buildOpenApiDocument(routes, {
    version: deps.version,
    bodyLimitBytes: deps.bodyLimitBytes,
  });
  const allowed = new AllowedMethods(routes);
  const access = new RequestAccess(deps.keys);

  // While closing, answers to requests in flight end their connection, so close() need not wait
  // for keep-alive sockets to time out; requests that arrive meanwhile are turned away.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  // Answers that need no route run here, before any body is read: a body sent to a path or method
  // that does not exist, or to a server shutting down, is never buffered or parsed.
  app.addHook('onRequest', async (request, reply) => {
    if (closing) throw new ApiError(503, 'shutting_down', 'the gateway is shutting down');
    if (!request.is404) return;
    const path = request.url.split('?')[0];
    const methods = allowed.of(request.url);
    if (methods.length > 0) {
      reply.header('allow', methods.join(', '));
      throw new ApiError(405, 'method_not_allowed', `${request.method} is not allowed on ${path}`);
    }
    throw ApiError.notFound(`no route ${request.method} ${path}`);
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

  // Reached only if the onRequest hook above let a 404 through; kept so fastify's own 404 body never is.
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

function routeLabel(request: { routeOptions: { url?: string | undefined } }): string {
  // The template, never the raw URL: ids in paths would give every request its own time series.
  return request.routeOptions.url ?? 'unmatched';
}
