import { AccessToken } from 'livekit-server-sdk';
import type { LiveKitConnection } from './livekitProbe.js';

export interface ParticipantGrant {
  room: string;
  identity: string;
  name?: string;
  attributes?: Record<string, string>;
  /** 'sip' marks the gateway's own participants, so room UIs can show them as phone callers. */
  kind?: 'sip' | 'standard';
  /** Seconds the token may be used to join; the session itself outlives it. */
  ttlSeconds: number;
}

/** Join tokens for LiveKit rooms, signed with the gateway's API key. */
export class LiveKitTokens {
  constructor(private readonly connection: LiveKitConnection) {}

  async participantToken(grant: ParticipantGrant): Promise<string> {
    const token = new AccessToken(this.connection.apiKey, this.connection.apiSecret, {
      identity: grant.identity,
      ttl: grant.ttlSeconds,
      ...(grant.name ? { name: grant.name } : {}),
      ...(grant.attributes ? { attributes: grant.attributes } : {}),
    });
    if (grant.kind) token.kind = grant.kind;
    token.addGrant({
      roomJoin: true,
      room: grant.room,
      canPublish: true,
      canSubscribe: true,
      canPublishData: true,
      // A call leg reports its own sip.callStatus (hangup) as it leaves; browsers may not.
      ...(grant.kind === 'sip' ? { canUpdateOwnMetadata: true } : {}),
    });
    return token.toJwt();
  }
}
