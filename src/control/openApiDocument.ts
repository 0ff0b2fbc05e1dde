import { z } from 'zod';
import type { RouteSpec } from './routeSpec.js';

type JsonObject = Record<string, unknown>;

/** `/v1/apps/:appId/calling` → `/v1/apps/{appId}/calling`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Schemas with a `.meta({ id })` become components and are referenced from operations; zod's
 * registry-wide conversion does the hoisting, so every named schema appears exactly once.
 */
function collectSchemas(routes: readonly RouteSpec[]) {
  const registry = z.registry<{ id?: string }>();
  const inline = new Map<z.ZodType, string>();
  let counter = 0;
  const add = (schema: z.ZodType | undefined): void => {
    if (!schema || inline.has(schema)) return;
    const id = (z.globalRegistry.get(schema)?.id as string | undefined) ?? `Inline${++counter}`;
    inline.set(schema, id);
    if (!registry.has(schema)) registry.add(schema, { id });
  };
  for (const route of routes) {
    add(route.body);
    for (const response of Object.values(route.responses)) add(response.schema);
  }
  const converted = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}`, io: 'input' });
  const components: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(converted.schemas)) {
    // Components are plain schemas inside the document; their own $schema/$id would be noise.
    const { $schema: _schema, $id: _id, ...rest } = schema as JsonObject;
    components[id] = rest;
  }
  return { ids: inline, components };
}

function parametersIn(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonObject[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input' }) as JsonObject & {
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

function parametersOf(route: RouteSpec): JsonObject[] {
  return [...parametersIn(route.params, 'path'), ...parametersIn(route.query, 'query')];
}

function securityOf(route: RouteSpec): JsonObject[] | undefined {
  return route.access === 'public' ? [] : undefined;
}

/** The API's OpenAPI 3.1 document, generated from the route declarations the server runs. */
export function buildOpenApiDocument(routes: readonly RouteSpec[], info: { version: string }): JsonObject {
  const { ids, components } = collectSchemas(routes);
  const ref = (schema: z.ZodType) => ({ $ref: `#/components/schemas/${ids.get(schema)}` });
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
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
      parameters: parametersOf(route),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(route.body) } } } }
        : {}),
      responses,
      ...(security ? { security } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'SIP ⇄ LiveKit gateway API',
      version: info.version,
      description:
        'Keys: admin (sk_admin_…), metrics (sk_metrics_…, read-only scraping), app (sk_live_app_… / sk_test_app_…, bound to one app).',
    },
    components: {
      schemas: components,
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key' } },
    },
    security: [{ apiKey: [] }],
    paths,
  };
}
