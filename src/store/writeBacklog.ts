import type { Logger } from 'pino';
import type { SqlStore } from './sql/sqlTypes.js';

/**
 * Whether the store keeps up: while writes wait uncommitted (PostgreSQL slow or away) past
 * `maxPending`, new calls are refused (503, another node or a retry takes them) so an outage
 * does not pile up without bound in memory; calls already up go on and keep writing. The change
 * into and out of that state is logged once each way.
 */
export class WriteBacklog {
  private behind = false;

  constructor(
    private readonly store: Pick<SqlStore, 'pendingWrites'>,
    private readonly maxPending: number,
    private readonly logger: Logger,
  ) {}

  canAcceptWork(): boolean {
    const pending = this.store.pendingWrites();
    const behind = pending >= this.maxPending;
    if (behind !== this.behind) {
      this.behind = behind;
      if (behind)
        this.logger.warn(
          { pending },
          'the store is behind on writes: refusing new calls until it catches up',
        );
      else this.logger.info({ pending }, 'the store caught up: accepting new calls again');
    }
    return !behind;
  }
}
