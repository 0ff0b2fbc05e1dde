import { z } from 'zod';
import type { RouteSpec } from './routeSpec.js';

type JsonObject = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';
/**
 * Where zod puts named schemas it meets inside the registered ones but that are not registered
 * themselves (CallFlow and its verbs, inside CallUpdate): `<uri("__shared")>#/$defs/<id>`. A
 * fragment after a fragment resolves to nothing, so those are hoisted to components of their own.
 */
const SHARED_PREFIX = `${COMPONENTS}__shared#/$defs/`;

/** Points every `$ref` under `from` at the component it becomes; walks without recursion. */
function retargetRefs(root: unknown, from: string): void {
  const pending: unknown[] = [root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node === null || typeof node !== 'object') continue;
    const object = node as JsonObject;
    if (typeof object.$ref === 'string' && object.$ref.startsWith(from)) {
      object.$ref = COMPONENTS + object.$ref.slice(from.length);
    }
    pending.push(...Object.values(object));
  }
}

/**
 * The components of the document, the component id of each request/response schema, and a
 * converter for parameter schemas whose named parts become components too. Schemas with a
 * `.meta({ id })` are referenced under that id; zod's registry-wide conversion does the hoisting,
 * so every named schema appears exactly once.
 */
export function collectSchemas(routes: readonly RouteSpec[]) {
  const registry = z.registry<{ id?: string }>();
  const ids = new Map<z.ZodType, string>();
  let counter = 0;
  const add = (schema: z.ZodType | undefined): void => {
    if (!schema || ids.has(schema)) return;
    const id = (z.globalRegistry.get(schema)?.id as string | undefined) ?? `Inline${++counter}`;
    ids.set(schema, id);
    if (!registry.has(schema)) registry.add(schema, { id });
  };
  for (const route of routes) {
    add(route.body);
    for (const response of Object.values(route.responses)) add(response.schema);
  }
  const converted = z.toJSONSchema(registry, { uri: (id) => `${COMPONENTS}${id}`, io: 'input' });
  const { __shared: shared, ...named } = converted.schemas;
  const components: Record<string, JsonObject> = {};
  const hoist = (defs: Record<string, unknown>): void => {
    for (const [id, schema] of Object.entries(defs)) {
      // Components are plain schemas inside the document; their own $schema/$id would be noise.
      const { $schema: _schema, $id: _id, ...rest } = schema as JsonObject;
      const known = components[id];
      if (known && JSON.stringify(known) !== JSON.stringify(rest)) {
        throw new Error(`two different schemas named ${id} in the OpenAPI document`);
      }
      components[id] = rest;
    }
  };
  hoist(named);
  hoist(((shared as JsonObject | undefined)?.$defs ?? {}) as Record<string, unknown>);
  retargetRefs(components, SHARED_PREFIX);

  /** A params or query schema as JSON Schema; its named parts are hoisted to components. */
  const parameterSchema = (schema: z.ZodType): JsonObject => {
    const { $schema: _schema, $defs, ...json } = z.toJSONSchema(schema, { io: 'input' }) as JsonObject;
    if ($defs) {
      hoist($defs as Record<string, unknown>);
      retargetRefs(components, '#/$defs/');
      retargetRefs(json, '#/$defs/');
    }
    return json;
  };
  return { ids, components, parameterSchema };
}
