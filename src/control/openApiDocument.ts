import { MAX_PATH_SEGMENT_LENGTH } from './fastifyErrors.js';
import { MAX_BODY_DEPTH } from './jsonBody.js';
import { collectSchemas } from './openApiSchemas.js';
import { serverResponses } from './openApiServerResponses.js';
import type { RouteSpec } from './routeSpec.js';

type JsonObject = Record<string, unknown>;

/** `/v1/apps/:appId/calling` → `/v1/apps/{appId}/calling`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parametersIn(
  schema: RouteSpec['params'],
  where: 'path' | 'query',
  toJson: (schema: NonNullable<RouteSpec['params']>) => JsonObject,
): JsonObject[] {
  if (!schema) return [];
  const json = toJson(schema) as JsonObject & {
    properties?: Record<string, JsonObject>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

function securityOf(route: RouteSpec): JsonObject[] | undefined {
  return route.access === 'public' ? [] : undefined;
}

const DESCRIPTION = [
  'Keys: admin (sk_admin_…), metrics (sk_metrics_…, read-only scraping), app (sk_live_app_… / sk_test_app_…, bound to one app); each operation names the keys it takes in x-access.',
  'The key is checked before the body is read: 401 and 403 come whatever the body.',
  'Every error is {"error": {"code", "message", "details"?}}; details name the fields at fault.',
  `Bodies are JSON (whatever the Content-Type), nested at most ${MAX_BODY_DEPTH} levels; path segments are at most ${MAX_PATH_SEGMENT_LENGTH} characters.`,
  'A method a path does not answer is a 405 with an Allow header; malformed HTTP is a 400 (431 for oversized headers) and closes the connection; while the gateway shuts down, new requests get 503 shutting_down.',
].join('\n\n');

/** The API's OpenAPI 3.1 document, generated from the route declarations the server runs. */
export function buildOpenApiDocument(
  routes: readonly RouteSpec[],
  info: { version: string; bodyLimitBytes: number },
): JsonObject {
  // What each operation answers: the server's own answers first, the route's own words over them.
  const documented = routes.map((route) => ({
    ...route,
    responses: { ...serverResponses(route, info.bodyLimitBytes), ...route.responses },
  }));
  const { ids, components, parameterSchema } = collectSchemas(documented);
  const ref = (schema: NonNullable<RouteSpec['body']>) => ({
    $ref: `#/components/schemas/${ids.get(schema)}`,
  });
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of documented) {
    const path = openApiPath(route.url);
    const responses: Record<string, JsonObject> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const content = response.schema
        ? { 'application/json': { schema: ref(response.schema) } }
        : response.contentType
          ? { [response.contentType]: { schema: { type: 'string' } } }
          : undefined;
      responses[status] = { description: response.description, ...(content ? { content } : {}) };
    }
    const security = securityOf(route);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      'x-access': route.access,
      parameters: [
        ...parametersIn(route.params, 'path', parameterSchema),
        ...parametersIn(route.query, 'query', parameterSchema),
      ],
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(route.body) } } } }
        : {}),
      responses,
      ...(security ? { security } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'SIP ⇄ LiveKit gateway API', version: info.version, description: DESCRIPTION },
    components: {
      schemas: components,
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key' } },
    },
    security: [{ apiKey: [] }],
    paths,
  };
}
