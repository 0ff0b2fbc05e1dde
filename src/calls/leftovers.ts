import type { Logger } from 'pino';
import type { OrphanedLegs } from '../signalling/orphanedLegs.js';
import type { StoredLeg } from '../store/sipLegStore.js';
import type { CallRecordings } from './callRecordings.js';
import type { CallService } from './callService.js';
import type { Call } from './callTypes.js';

/** What ending a node's leftovers needs: that node's calls, SIP legs and recordings. */
export interface LeftoverParts {
  calls: Pick<CallService, 'closeOrphans'>;
  orphanedLegs: Pick<OrphanedLegs, 'find'>;
  rooms: { deleteRoom(name: string): Promise<void> };
  recordings?: Pick<CallRecordings, 'interruptLeftovers'>;
  logger: Logger;
}

export interface Leftovers {
  calls: Call[];
  /** The SIP legs still to hang up (OrphanedLegs.end), once a SIP server is connected. */
  legs: StoredLeg[];
  recordings: number;
}

/**
 * Ends what a node left when it stopped uncleanly (this node's previous process at start-up, or
 * a dead cluster node taken over): its calls end as of `diedAt` (its last heartbeat) with
 * gateway_restart and their events, their rooms are closed (whoever is still in them talks to
 * nobody), their recordings become interrupted. The legs are returned, to hang up.
 */
export async function endLeftovers(parts: LeftoverParts, diedAt: Date | undefined): Promise<Leftovers> {
  const legs = await parts.orphanedLegs.find();
  const calls = await parts.calls.closeOrphans(diedAt);
  const recordings = (await parts.recordings?.interruptLeftovers(diedAt)) ?? 0;
  for (const call of calls) {
    if (!call.livekitRoomName) continue;
    parts.rooms
      .deleteRoom(call.livekitRoomName)
      .catch((error: unknown) =>
        parts.logger.warn({ err: error, callId: call.id }, 'could not close the room of a call left live'),
      );
  }
  return { calls, legs, recordings };
}
