import type { Logger } from 'pino';
import type { OrphanedLegs } from '../signalling/orphanedLegs.js';
import type { SipLegJournal } from '../signalling/sipLegJournal.js';
import type { LivenessStore } from '../store/livenessStore.js';
import type { CallRecordings } from './callRecordings.js';
import type { CallService } from './callService.js';
import { endLeftovers } from './leftovers.js';

/** How often the running gateway writes down that it is alive (the precision of a crash's time). */
const HEARTBEAT_MS = 1000;

export interface RestartRecoveryDeps {
  calls: CallService;
  orphanedLegs: OrphanedLegs;
  journal: SipLegJournal;
  liveness: LivenessStore;
  rooms: { deleteRoom(name: string): Promise<void> };
  /** Calls' recordings: those a crash cut off become interrupted. */
  recordings?: Pick<CallRecordings, 'interruptLeftovers'>;
  logger: Logger;
  now: () => Date;
}

/**
 * What an unclean stop left, and the bookkeeping that lets the next start find it. At start:
 * the previous process's calls end as of its last heartbeat (their durations leave the downtime
 * out), their rooms are closed (whoever is still in them talks to nobody), their recordings
 * become interrupted, and their SIP legs are hung up once the SIP server is back. While running: a heartbeat every second, and each
 * call's SIP legs forgotten when it ends.
 */
export class RestartRecovery {
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RestartRecoveryDeps) {}

  /**
   * Closes what the previous process left; resolves to a function that ends its SIP legs, to run
   * once the SIP server connection is up. Must be awaited before this process makes calls of its
   * own (and before its first heartbeat overwrites the last one of the previous process).
   */
  async recover(): Promise<() => Promise<void>> {
    const { deps } = this;
    const lastAlive = await deps.liveness.lastAlive();
    const diedAt = lastAlive ? new Date(lastAlive) : undefined;
    const left = await endLeftovers(deps, diedAt);
    const orphanLegs = left.legs;
    if (left.calls.length > 0 || orphanLegs.length > 0 || left.recordings > 0) {
      deps.logger.warn(
        { calls: left.calls.length, sipLegs: orphanLegs.length, recordings: left.recordings, lastAlive },
        'ended calls left live by an unclean stop',
      );
    }
    // From here on a call's legs are forgotten when it ends (the orphans' only once hung up).
    deps.calls.on('transition', (call) => {
      if (call.endedAt) deps.journal.ended(call.id);
    });
    const beat = () => deps.liveness.beat(deps.now().toISOString());
    beat();
    this.heartbeat = setInterval(beat, HEARTBEAT_MS);
    this.heartbeat.unref();
    return () => (orphanLegs.length > 0 ? deps.orphanedLegs.end(orphanLegs) : Promise.resolve());
  }

  /** Stops the heartbeat (a clean stop). */
  stop(): void {
    clearInterval(this.heartbeat);
  }
}
