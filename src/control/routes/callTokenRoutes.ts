import type { CallService } from '../../calls/callService.js';
import type { LiveKitTokens } from '../../livekit/liveKitTokens.js';
import { ApiError } from '../apiError.js';
import { ownCall } from '../callVisibility.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import { callIdParamsSchema } from '../schemas/callSchemas.js';
import { callTokenRequestSchema, callTokenSchema } from '../schemas/callTokenSchemas.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';

export interface CallTokenRouteDeps {
  calls: CallService;
  tokens: LiveKitTokens;
  /** The livekit-server URL browsers connect to. */
  livekitUrl: string;
  now: () => Date;
}

export function callTokenRoutes(deps: CallTokenRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/calls/:id/tokens',
      operationId: 'createCallToken',
      summary: "A LiveKit join token for a WebRTC participant of the call's room",
      tag: 'calls',
      access: 'callReader',
      params: callIdParamsSchema,
      body: callTokenRequestSchema,
      responses: {
        200: { description: 'the token', schema: callTokenSchema },
        404: { description: 'no such call for this key', schema: errorBodySchema },
        409: {
          description:
            'the call has no room (its media is still being set up, or voicemail took it) or has ended',
          schema: errorBodySchema,
        },
      },
      handler: async ({ params, body, principal }) => {
        const call = await ownCall(deps.calls, params.id, principal);
        if (!call.livekitRoomName) throw new ApiError(409, 'conflict', `call ${call.id} has no room yet`);
        if (call.endedAt) throw new ApiError(409, 'conflict', `call ${call.id} has ended`);
        const token = await deps.tokens.participantToken({
          room: call.livekitRoomName,
          identity: body.identity,
          ...(body.name ? { name: body.name } : {}),
          ttlSeconds: body.ttlSeconds,
        });
        return {
          token,
          url: deps.livekitUrl,
          roomName: call.livekitRoomName,
          identity: body.identity,
          expiresAt: new Date(deps.now().getTime() + body.ttlSeconds * 1000).toISOString(),
        };
      },
    }),
  ];
}
