import type { Database } from './database.js';

/**
 * The running gateway's heartbeat in storage. After a crash the next process reads when its
 * predecessor was last alive, so the calls it left end at that time and their durations leave
 * the downtime out.
 */
export class LivenessStore {
  private readonly readStmt;
  private readonly beatStmt;

  constructor(db: Database) {
    this.readStmt = db.sql.prepare<[], { alive_at: string }>(
      'SELECT alive_at FROM gateway_liveness WHERE id = 1',
    );
    this.beatStmt = db.sql.prepare(`
      INSERT INTO gateway_liveness (id, alive_at) VALUES (1, ?)
      ON CONFLICT (id) DO UPDATE SET alive_at = excluded.alive_at`);
  }

  /** When the gateway that used this store last said it was alive (ISO time), if ever. */
  lastAlive(): string | undefined {
    return this.readStmt.get()?.alive_at;
  }

  beat(at: string): void {
    this.beatStmt.run(at);
  }
}
