import type { CallCommands } from '../../calls/callCommands.js';
import type { CallService } from '../../calls/callService.js';
import { asApiErrors } from '../callCommandErrors.js';
import { ownCall } from '../callVisibility.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import { callActionSchema, callUpdateSchema } from '../schemas/callActionSchemas.js';
import { callIdParamsSchema, callSchema } from '../schemas/callSchemas.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';

export interface CallCommandRouteDeps {
  calls: CallService;
  commands: CallCommands;
}

const commandErrors = {
  404: { description: 'no such call for this key', schema: errorBodySchema },
  409: { description: 'the call is not in a state where this applies', schema: errorBodySchema },
  501: {
    description: 'not in this build: a flow verb this build does not carry',
    schema: errorBodySchema,
  },
};

export function callCommandRoutes(deps: CallCommandRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/calls/:id/actions',
      operationId: 'callAction',
      summary:
        'Decide an inbound call that rings waiting for a decision (defaultAnswerBehavior webhook), or transfer an answered one',
      tag: 'calls',
      access: 'callReader',
      params: callIdParamsSchema,
      body: callActionSchema,
      responses: {
        200: { description: 'the call after the action', schema: callSchema },
        202: {
          description:
            'transfer: REFER sent; the call as it is (in progress), its outcome follows as calls.transfer.completed or calls.transfer.failed',
          schema: callSchema,
        },
        ...commandErrors,
        502: {
          description: 'answer_failed: accepting the call failed on the SIP leg',
          schema: errorBodySchema,
        },
      },
      handler: async ({ params, body, principal, reply }) => {
        const call = await asApiErrors(() =>
          deps.commands.decide(ownCall(deps.calls, params.id, principal), body),
        );
        if (body.action === 'transfer') reply.code(202);
        return call;
      },
    }),
    defineRoute({
      method: 'PATCH',
      url: '/v1/calls/:id',
      operationId: 'updateCall',
      summary: 'Hang up a call ({"status":"completed"}) or replace its call flow',
      tag: 'calls',
      access: 'callReader',
      params: callIdParamsSchema,
      body: callUpdateSchema,
      responses: { 200: { description: 'the call after the change', schema: callSchema }, ...commandErrors },
      handler: ({ params, body, principal }) =>
        asApiErrors(() => deps.commands.update(ownCall(deps.calls, params.id, principal), body)),
    }),
  ];
}
