import { LOCAL_NODE } from './localNode.js';
import { type SqlStore, statement } from './sql/sqlTypes.js';

/**
 * The running gateway's heartbeat in storage. After a crash the next process reads when its
 * predecessor was last alive, so the calls it left end at that time and their durations leave
 * the downtime out.
 */
export class LivenessStore {
  /** A beat handed over and not committed yet (PostgreSQL slow or away). */
  private pending = false;

  /** `nodeId`: whose heartbeat this is (a cluster node's id; 'local' for a single node). */
  constructor(
    private readonly sql: SqlStore,
    private readonly nodeId: string = LOCAL_NODE,
  ) {}

  /** When this node (a previous process of it) last said it was alive (ISO time), if ever. */
  async lastAlive(nodeId: string = this.nodeId): Promise<string | undefined> {
    const row = await this.sql.get<{ alive_at: string }>(
      'SELECT alive_at FROM node_liveness WHERE node_id = ?',
      [nodeId],
    );
    return row?.alive_at;
  }

  /**
   * Writes the time down; nobody waits for it. While a beat is still uncommitted the next ones
   * are skipped: only the newest time matters, and a database outage must not pile up one write
   * a second behind it.
   */
  beat(at: string): void {
    if (this.pending) return;
    this.pending = true;
    this.sql
      .write([
        statement(
          `INSERT INTO node_liveness (node_id, alive_at) VALUES (?, ?)
           ON CONFLICT (node_id) DO UPDATE SET alive_at = excluded.alive_at`,
          this.nodeId,
          at,
        ),
      ])
      // A failed beat is logged by the store; the next one tries again.
      .catch(() => undefined)
      .finally(() => {
        this.pending = false;
      });
  }
}
