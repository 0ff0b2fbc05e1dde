import type { CallService } from '../../calls/callService.js';
import type { PendingDecisions } from '../../signalling/inbound/pendingDecisions.js';
import { ApiError } from '../apiError.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import { callActionSchema } from '../schemas/callActionSchemas.js';
import { callIdParamsSchema, callSchema } from '../schemas/callSchemas.js';
import { commonErrors, errorBodySchema } from '../schemas/errorSchemas.js';

export interface CallActionRouteDeps {
  calls: CallService;
  decisions: PendingDecisions;
}

export function callActionRoutes(deps: CallActionRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/calls/:id/actions',
      operationId: 'callAction',
      summary: 'Decide an inbound call that rings waiting for a decision (defaultAnswerBehavior webhook)',
      tag: 'calls',
      access: 'callReader',
      params: callIdParamsSchema,
      body: callActionSchema,
      responses: {
        200: { description: 'the call after the action', schema: callSchema },
        400: { description: 'a bad action or field', schema: errorBodySchema },
        ...commonErrors,
        404: { description: 'no such call for this key', schema: errorBodySchema },
        409: { description: 'the call is not waiting for a decision', schema: errorBodySchema },
        501: {
          description: 'the action needs the media plane, not in this build yet',
          schema: errorBodySchema,
        },
      },
      handler: ({ params, body, principal }) => {
        const call = deps.calls.get(params.id);
        const mine =
          principal?.role === 'admin' || (principal?.role === 'app' && principal.appId === call?.appId);
        if (!call || !mine) throw ApiError.notFound(`no call ${params.id}`);
        const waiting = deps.decisions.get(call.id);
        if (!waiting) {
          throw new ApiError(
            409,
            'conflict',
            `call ${call.id} is ${call.status} and not waiting for a decision`,
          );
        }
        if (body.action !== 'reject') {
          throw new ApiError(
            501,
            'not_implemented',
            `${body.action} answers the call, which needs the media plane; this build can only reject`,
          );
        }
        waiting.reject(body.code);
        return deps.calls.get(call.id);
      },
    }),
  ];
}
