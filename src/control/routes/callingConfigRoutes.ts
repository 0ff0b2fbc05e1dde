import type { CallingConfigStore, CallingSettings } from '../../store/callingConfigStore.js';
import { newId } from '../../store/ids.js';
import { ApiError } from '../apiError.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import {
  appIdParamsSchema,
  type CallingConfigPatch,
  callingConfigPatchSchema,
  callingConfigSchema,
} from '../schemas/callingConfigSchemas.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';

export interface CallingConfigRouteDeps {
  store: CallingConfigStore;
  organizationId: string;
  now: () => Date;
}

/** Rules that span fields, checked on the settings as they would be after the update. */
function checkCombination(settings: CallingSettings): void {
  if (settings.whatsappSipEnabled && !settings.whatsappCallingEnabled) {
    throw ApiError.badRequest([
      { field: 'whatsappSipEnabled', message: 'can be true only when whatsappCallingEnabled is true' },
    ]);
  }
}

function applyPatch(current: CallingSettings, patch: CallingConfigPatch): CallingSettings {
  const next: CallingSettings = { ...current };
  for (const [key, value] of Object.entries(patch) as [keyof CallingSettings, never][]) {
    if (value !== undefined) next[key] = value;
  }
  return next;
}

export function callingConfigRoutes(deps: CallingConfigRouteDeps): RouteSpec[] {
  const url = '/v1/organization/apps/:appId/calling';
  return [
    defineRoute({
      method: 'GET',
      url,
      operationId: 'getCallingConfig',
      summary: "An app's calling configuration",
      tag: 'calling configuration',
      access: 'admin',
      params: appIdParamsSchema,
      responses: {
        200: { description: 'the configuration', schema: callingConfigSchema },
        400: { description: 'malformed appId', schema: errorBodySchema },
        404: { description: 'this app was never configured', schema: errorBodySchema },
      },
      handler: ({ params }) => {
        const config = deps.store.get(params.appId);
        if (!config) throw ApiError.notFound(`app ${params.appId} has no calling configuration`);
        return config;
      },
    }),
    defineRoute({
      method: 'PUT',
      url,
      operationId: 'putCallingConfig',
      summary: "Create or update an app's calling configuration (fields left out keep their value)",
      tag: 'calling configuration',
      access: 'admin',
      params: appIdParamsSchema,
      body: callingConfigPatchSchema,
      responses: {
        200: { description: 'the configuration after the update', schema: callingConfigSchema },
        400: {
          description:
            'invalid_request: a field is unknown, of the wrong type or out of range, or whatsappSipEnabled would be true while whatsappCallingEnabled is false (as sent or as stored); `body` when the body is not JSON or is nested too deep',
          schema: errorBodySchema,
        },
      },
      handler: ({ params, body }) =>
        deps.store.update(
          {
            appId: params.appId,
            organizationId: deps.organizationId,
            newId: () => newId('cc_'),
            now: deps.now().toISOString(),
          },
          (current) => {
            const next = applyPatch(current, body);
            checkCombination(next);
            return next;
          },
        ),
    }),
  ];
}
