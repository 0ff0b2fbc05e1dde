import type { z } from 'zod';
import { type TrunkConfig, trunkSchema } from '../../config/sipSchema.js';
import type { RegistrationState } from '../../signalling/registration/registrationTypes.js';
import {
  type NumberEntry,
  RoutingError,
  type SipRouting,
  type TrunkEntry,
} from '../../signalling/routing/sipRouting.js';
import { ApiError } from '../apiError.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import { appIdParamsSchema } from '../schemas/callingConfigSchemas.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';
import {
  appSipPatchSchema,
  appSipSchema,
  numberCreateSchema,
  numberListSchema,
  numberParamsSchema,
  numberViewSchema,
  trunkCreateSchema,
  trunkListSchema,
  trunkParamsSchema,
  trunkPatchSchema,
  trunkViewSchema,
} from '../schemas/sipRoutingSchemas.js';
import { parseOrThrow } from '../validation.js';

/** What a routing change is, for whoever reports it (the event channel). */
export type RoutingChange =
  | { event: 'sip.trunk.created' | 'sip.trunk.updated' | 'sip.trunk.deleted'; trunk: string }
  | { event: 'sip.number.created' | 'sip.number.deleted'; number: string; appId: string }
  | { event: 'sip.app.updated'; appId: string; outboundTrunk: string | null };

export interface SipRoutingRouteDeps {
  routing: SipRouting;
  /** The registration state of a trunk that registers; undefined for any other. */
  registrations: { state(trunk: string): RegistrationState | undefined };
  /** Told after each change is stored and applied. */
  onChange?: (change: RoutingChange) => void;
}

type TrunkView = z.output<typeof trunkViewSchema>;

/** A trunk as the API shows it: every password replaced by hasPassword. */
export function trunkView(entry: TrunkEntry, registration: RegistrationState | undefined): TrunkView {
  const { trunk } = entry;
  const out = trunk.outbound;
  const reg = trunk.registration;
  return {
    id: trunk.name,
    name: trunk.name,
    kind: trunk.kind,
    source: entry.source,
    sourceAddresses: [...trunk.sourceAddresses],
    inboundAuth: trunk.inboundAuth
      ? {
          realm: trunk.inboundAuth.realm,
          username: trunk.inboundAuth.username,
          algorithm: trunk.inboundAuth.algorithm,
          hasPassword: true,
        }
      : null,
    outbound: out
      ? {
          host: out.host,
          ...(out.port === undefined ? {} : { port: out.port }),
          transport: out.transport,
          ...(out.username === undefined ? {} : { username: out.username }),
          hasPassword: out.password !== undefined,
          ...(out.fromDomain === undefined ? {} : { fromDomain: out.fromDomain }),
        }
      : null,
    registration: reg
      ? {
          username: reg.username,
          hasPassword: true,
          ...(reg.realm === undefined ? {} : { realm: reg.realm }),
          ...(reg.registrar === undefined ? {} : { registrar: reg.registrar }),
          expiresSeconds: reg.expiresSeconds,
          ...(reg.contactUser === undefined ? {} : { contactUser: reg.contactUser }),
          state: registration?.state ?? null,
          expiresAt: registration?.expiresAt ?? null,
          lastError: registration?.lastError ?? null,
        }
      : null,
    media: { ...trunk.media },
    allowTransfer: trunk.allowTransfer === true,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  };
}

function numberView(entry: NumberEntry): z.output<typeof numberViewSchema> {
  return {
    number: entry.number,
    appId: entry.appId,
    trunk: entry.trunk ?? null,
    source: entry.source,
    createdAt: entry.createdAt,
  };
}

/** The routing layer's refusals as API errors: 400 naming the field, 404, 409. */
function apiErrorOf(error: unknown): unknown {
  if (!(error instanceof RoutingError)) return error;
  switch (error.kind) {
    case 'invalid':
      return ApiError.badRequest([{ field: error.field ?? 'body', message: error.message }]);
    case 'not_found':
      return ApiError.notFound(error.message);
    case 'read_only':
      return new ApiError(409, 'read_only', error.message);
    case 'conflict':
      return new ApiError(409, 'conflict', error.message);
  }
}

async function attempt<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    throw apiErrorOf(error);
  }
}

const SECRET_HOLDERS = ['outbound', 'inboundAuth', 'registration'] as const;

/**
 * The trunk a PATCH asks for: the stored one with the fields given replaced whole, a nested
 * object sent without its password keeping the stored one; checked by the trunk schema.
 */
function patched(current: TrunkConfig, patch: Record<string, unknown>): TrunkConfig {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const holder = SECRET_HOLDERS.find((name) => name === key);
    const stored = holder ? (current[holder] as { password?: string } | null) : null;
    if (
      stored?.password !== undefined &&
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      !('password' in value)
    ) {
      next[key] = { ...value, password: stored.password };
    } else {
      next[key] = value;
    }
  }
  return parseOrThrow(trunkSchema, next, 'body');
}

const trunkErrors = {
  400: {
    description:
      'invalid_request: a field is unknown, of the wrong type or out of range (each named in details, e.g. outbound.host)',
    schema: errorBodySchema,
  },
} as const;

/**
 * The routing API (admin keys): trunks, numbers and each app's outbound trunk, stored in the database
 * and applied at once. YAML entries are listed with source "config" and are read-only.
 */
export function sipRoutingRoutes(deps: SipRoutingRouteDeps): RouteSpec[] {
  const { routing } = deps;
  const view = (entry: TrunkEntry) => trunkView(entry, deps.registrations.state(entry.trunk.name));
  const tell = (change: RoutingChange) => deps.onChange?.(change);
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/sip/trunks',
      operationId: 'createSipTrunk',
      summary: 'Create a trunk (applied at once)',
      tag: 'sip routing',
      access: 'admin',
      body: trunkCreateSchema,
      responses: {
        201: { description: 'the trunk', schema: trunkViewSchema },
        ...trunkErrors,
        409: {
          description: 'conflict: a trunk of that name exists (in the config file or here)',
          schema: errorBodySchema,
        },
      },
      handler: async ({ body, reply }) => {
        const entry = await attempt(() => routing.createTrunk(body));
        tell({ event: 'sip.trunk.created', trunk: entry.trunk.name });
        reply.code(201);
        return view(entry);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/sip/trunks',
      operationId: 'listSipTrunks',
      summary: 'Every trunk: the config file’s (read-only) and the API’s',
      tag: 'sip routing',
      access: 'admin',
      responses: { 200: { description: 'the trunks', schema: trunkListSchema } },
      handler: () => ({ trunks: routing.trunkEntries().map(view) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/sip/trunks/:name',
      operationId: 'getSipTrunk',
      summary: 'A trunk, with its registration state',
      tag: 'sip routing',
      access: 'admin',
      params: trunkParamsSchema,
      responses: {
        200: { description: 'the trunk', schema: trunkViewSchema },
        400: { description: 'malformed trunk name', schema: errorBodySchema },
        404: { description: 'no such trunk', schema: errorBodySchema },
      },
      handler: ({ params }) => {
        const entry = routing.trunkEntry(params.name);
        if (!entry) throw ApiError.notFound(`no trunk named ${params.name}`);
        return view(entry);
      },
    }),
    defineRoute({
      method: 'PATCH',
      url: '/v1/sip/trunks/:name',
      operationId: 'updateSipTrunk',
      summary: 'Change a trunk (applied at once; calls in progress keep the trunk they started with)',
      tag: 'sip routing',
      access: 'admin',
      params: trunkParamsSchema,
      body: trunkPatchSchema,
      responses: {
        200: { description: 'the trunk after the change', schema: trunkViewSchema },
        ...trunkErrors,
        404: { description: 'no such trunk', schema: errorBodySchema },
        409: { description: 'read_only: the trunk is in the config file', schema: errorBodySchema },
      },
      handler: async ({ params, body }) => {
        const entry = routing.trunkEntry(params.name);
        if (!entry) throw ApiError.notFound(`no trunk named ${params.name}`);
        if (entry.source === 'config') {
          throw new ApiError(
            409,
            'read_only',
            `trunk ${params.name} is in the config file (sip.trunks): read-only`,
          );
        }
        const updated = await attempt(() =>
          routing.patchTrunk(params.name, (current) => patched(current, body as Record<string, unknown>)),
        );
        tell({ event: 'sip.trunk.updated', trunk: params.name });
        return view(updated);
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/sip/trunks/:name',
      operationId: 'deleteSipTrunk',
      summary: 'Delete a trunk (calls in progress through it go on to their end)',
      tag: 'sip routing',
      access: 'admin',
      params: trunkParamsSchema,
      responses: {
        204: { description: 'deleted' },
        400: { description: 'malformed trunk name', schema: errorBodySchema },
        404: { description: 'no such trunk', schema: errorBodySchema },
        409: {
          description:
            'read_only: the trunk is in the config file; conflict: numbers or apps still name it (delete or move them first)',
          schema: errorBodySchema,
        },
      },
      handler: async ({ params, reply }) => {
        await attempt(() => routing.deleteTrunk(params.name));
        tell({ event: 'sip.trunk.deleted', trunk: params.name });
        return reply.code(204).send();
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/sip/numbers',
      operationId: 'createSipNumber',
      summary: 'Route a called number to an app (applied at once)',
      tag: 'sip routing',
      access: 'admin',
      body: numberCreateSchema,
      responses: {
        201: { description: 'the number', schema: numberViewSchema },
        400: {
          description: 'invalid_request: a field is malformed, or trunk names no pstn trunk',
          schema: errorBodySchema,
        },
        409: {
          description: 'conflict: the number is routed already (config file or API)',
          schema: errorBodySchema,
        },
      },
      handler: async ({ body, reply }) => {
        const entry = await attempt(() => routing.addNumber(body));
        tell({ event: 'sip.number.created', number: entry.number, appId: entry.appId });
        reply.code(201);
        return numberView(entry);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/sip/numbers',
      operationId: 'listSipNumbers',
      summary: 'Every routed number: the config file’s (read-only) and the API’s',
      tag: 'sip routing',
      access: 'admin',
      responses: { 200: { description: 'the numbers', schema: numberListSchema } },
      handler: () => ({ numbers: routing.numberEntries().map(numberView) }),
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/sip/numbers/:number',
      operationId: 'deleteSipNumber',
      summary: 'Stop routing a number (its next call is refused 404)',
      tag: 'sip routing',
      access: 'admin',
      params: numberParamsSchema,
      responses: {
        204: { description: 'deleted' },
        400: { description: 'malformed number', schema: errorBodySchema },
        404: { description: 'the number is not routed', schema: errorBodySchema },
        409: { description: 'read_only: the number is in the config file', schema: errorBodySchema },
      },
      handler: async ({ params, reply }) => {
        const entry = await attempt(() => routing.deleteNumber(params.number));
        tell({ event: 'sip.number.deleted', number: entry.number, appId: entry.appId });
        return reply.code(204).send();
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/organization/apps/:appId/sip',
      operationId: 'getAppSip',
      summary: "An app's SIP settings: its outbound trunk",
      tag: 'sip routing',
      access: 'admin',
      params: appIdParamsSchema,
      responses: {
        200: { description: 'the settings', schema: appSipSchema },
        400: { description: 'malformed appId', schema: errorBodySchema },
      },
      handler: ({ params }) => {
        const entry = routing.appEntry(params.appId);
        return {
          appId: params.appId,
          outboundTrunk: entry?.outboundTrunk ?? null,
          source: entry?.source ?? null,
        };
      },
    }),
    defineRoute({
      method: 'PATCH',
      url: '/v1/organization/apps/:appId/sip',
      operationId: 'updateAppSip',
      summary: "Set an app's outbound trunk (applied to its next call)",
      tag: 'sip routing',
      access: 'admin',
      params: appIdParamsSchema,
      body: appSipPatchSchema,
      responses: {
        200: { description: 'the settings after the change', schema: appSipSchema },
        400: {
          description:
            'invalid_request: outboundTrunk names no trunk, a trunk that is not pstn, or one without outbound settings',
          schema: errorBodySchema,
        },
        409: { description: 'read_only: the app is in the config file (sip.apps)', schema: errorBodySchema },
      },
      handler: async ({ params, body }) => {
        await attempt(() => routing.setAppTrunk(params.appId, body.outboundTrunk));
        tell({ event: 'sip.app.updated', appId: params.appId, outboundTrunk: body.outboundTrunk });
        return {
          appId: params.appId,
          outboundTrunk: body.outboundTrunk,
          source: body.outboundTrunk === null ? null : 'api',
        };
      },
    }),
  ];
}
