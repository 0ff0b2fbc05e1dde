import { SettingsSyncError, type WhatsAppSettingsSync } from '../../signalling/graph/whatsappSettingsSync.js';
import {
  type CallingConfigStore,
  type CallingSettings,
  DEFAULT_CALLING_SETTINGS,
  settingsOf,
} from '../../store/callingConfigStore.js';
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
  /** Tells WhatsApp providers about a change of an app's WhatsApp switches, before it is stored. */
  whatsapp?: WhatsAppSettingsSync;
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

/** The provider's refusal is a 502 naming the number; a number that cannot take it, a 422. */
async function pushWhatsApp(
  sync: WhatsAppSettingsSync,
  appId: string,
  settings: CallingSettings,
): Promise<void> {
  try {
    await sync.push(appId, settings);
  } catch (error) {
    if (!(error instanceof SettingsSyncError)) throw error;
    if (error.kind === 'not_configured') throw new ApiError(422, 'whatsapp_not_configured', error.message);
    throw new ApiError(502, 'provider_error', error.message);
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
      handler: async ({ params }) => {
        const config = await deps.store.get(params.appId);
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
        422: {
          description: 'whatsapp_not_configured: SIP asked for a number with no sip.whatsapp.numbers entry',
          schema: errorBodySchema,
        },
        502: {
          description:
            "provider_error: the WhatsApp provider refused a number's new settings (named, with its error); nothing was stored",
          schema: errorBodySchema,
        },
        400: {
          description:
            'invalid_request: a field is unknown, of the wrong type or out of range, or whatsappSipEnabled would be true while whatsappCallingEnabled is false (as sent or as stored); `body` when the body is not JSON or is nested too deep',
          schema: errorBodySchema,
        },
      },
      handler: async ({ params, body }) => {
        const current = await deps.store.get(params.appId);
        const before = current ? settingsOf(current) : { ...DEFAULT_CALLING_SETTINGS };
        const wanted = applyPatch(before, body);
        checkCombination(wanted);
        if (
          deps.whatsapp &&
          (wanted.whatsappCallingEnabled !== before.whatsappCallingEnabled ||
            wanted.whatsappSipEnabled !== before.whatsappSipEnabled)
        ) {
          await pushWhatsApp(deps.whatsapp, params.appId, wanted);
        }
        return deps.store.update(
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
        );
      },
    }),
  ];
}
