import { callLogEntry } from '../../calls/callLog.js';
import type { CallService } from '../../calls/callService.js';
import type { CallStore } from '../../calls/callStore.js';
import { ApiError } from '../apiError.js';
import type { Principal } from '../auth/apiKeys.js';
import { isVisible, ownCall } from '../callVisibility.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import {
  callIdParamsSchema,
  callListQuerySchema,
  callListSchema,
  callLogSchema,
  callSchema,
} from '../schemas/callSchemas.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';

export interface CallRouteDeps {
  calls: CallService;
  store: CallStore;
}

function appScope(principal: Principal | undefined, requested: string | undefined): string | undefined {
  if (principal?.role === 'app') {
    if (requested && requested !== principal.appId) {
      throw new ApiError(403, 'forbidden', 'an app key lists only its own calls');
    }
    return principal.appId;
  }
  return requested;
}

export function callRoutes(deps: CallRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/calls/:id',
      operationId: 'getCall',
      summary: 'A call',
      tag: 'calls',
      access: 'callReader',
      params: callIdParamsSchema,
      responses: {
        200: { description: 'the call', schema: callSchema },
        400: { description: 'malformed call id', schema: errorBodySchema },
        404: { description: 'no such call for this key', schema: errorBodySchema },
      },
      handler: ({ params, principal }) => ownCall(deps.calls, params.id, principal),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/calls/:id/log',
      operationId: 'getCallLog',
      summary: "A call as a CRM's voice-call record: E.164 from/to, direction, outcome, external ids",
      tag: 'calls',
      access: 'callReader',
      params: callIdParamsSchema,
      responses: {
        200: { description: 'the call log entry', schema: callLogSchema },
        400: { description: 'malformed call id', schema: errorBodySchema },
        404: { description: 'no such call for this key', schema: errorBodySchema },
      },
      handler: async ({ params, principal }) => {
        const call = await ownCall(deps.calls, params.id, principal);
        const details = (await deps.store.details(call.id)) ?? {
          sipCallId: null,
          answeredBy: null,
          voicemail: false,
        };
        return callLogEntry(call, details);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/calls',
      operationId: 'listCalls',
      summary: 'Calls, newest first, filtered and paged',
      tag: 'calls',
      access: 'callReader',
      query: callListQuerySchema,
      responses: {
        200: { description: 'a page of calls', schema: callListSchema },
        400: { description: 'a bad filter', schema: errorBodySchema },
      },
      handler: async ({ query, principal }) => {
        const appId = appScope(principal, query.appId);
        const cursor = query.startingAfter ? await deps.calls.find(query.startingAfter) : undefined;
        if (query.startingAfter && !isVisible(cursor, principal)) {
          throw ApiError.badRequest([{ field: 'startingAfter', message: 'no such call' }]);
        }
        const page = await deps.store.list({
          ...(appId ? { appId } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(query.direction ? { direction: query.direction } : {}),
          ...(query.channel ? { channel: query.channel } : {}),
          ...(query.createdFrom ? { createdFrom: new Date(query.createdFrom).toISOString() } : {}),
          ...(query.createdBefore ? { createdBefore: new Date(query.createdBefore).toISOString() } : {}),
          ...(cursor ? { startingAfter: cursor } : {}),
          limit: query.limit + 1,
        });
        // A call live here is shown as memory has it: the store may be a moment behind.
        const data = page
          .slice(0, query.limit)
          .map((call) => deps.calls.get(call.id) ?? deps.calls.withLiveState(call));
        return { data, hasMore: page.length > query.limit };
      },
    }),
  ];
}
