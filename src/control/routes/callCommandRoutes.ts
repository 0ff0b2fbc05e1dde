import type { CallCommands } from '../../calls/callCommands.js';
import type { CallService } from '../../calls/callService.js';
import type { Call } from '../../calls/callTypes.js';
import { asApiErrors } from '../callCommandErrors.js';
import type { CallForwarder } from '../callForwarding.js';
import { ownCall } from '../callVisibility.js';
import { defineRoute, type RouteContext, type RouteSpec } from '../routeSpec.js';
import { callActionSchema, callUpdateSchema } from '../schemas/callActionSchemas.js';
import { callIdParamsSchema, callSchema } from '../schemas/callSchemas.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';

export interface CallCommandRouteDeps {
  calls: CallService;
  commands: CallCommands;
  /** A cluster node sends commands for calls another node carries to that node. */
  forwarder?: CallForwarder;
}

/** Whether the call lives on another node of the cluster, and the command went there. */
async function relayed(
  deps: CallCommandRouteDeps,
  call: Call,
  context: RouteContext<unknown, unknown>,
): Promise<boolean> {
  if (!deps.forwarder || call.endedAt || deps.calls.get(call.id)) return false;
  return deps.forwarder.relay(call.id, context.request, context.reply);
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
      handler: async (context) => {
        const { params, body, principal, reply } = context;
        const own = await ownCall(deps.calls, params.id, principal);
        if (await relayed(deps, own, context)) return reply;
        const call = await asApiErrors(() => deps.commands.decide(own, body));
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
      handler: async (context) => {
        const { params, body, principal, reply } = context;
        const call = await ownCall(deps.calls, params.id, principal);
        if (await relayed(deps, call, context)) return reply;
        return asApiErrors(() => deps.commands.update(call, body));
      },
    }),
  ];
}
