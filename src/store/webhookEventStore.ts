import type { Database } from './database.js';

/**
 * The WhatsApp webhook events the gateway has taken, by call and event: Meta delivers a webhook
 * again when its first delivery got no quick 200, and a control plane may relay the same one,
 * so each (wacid, event) must act once.
 */
export class WebhookEventStore {
  private readonly insertStmt;

  constructor(db: Database) {
    this.insertStmt = db.sql.prepare(
      'INSERT OR IGNORE INTO whatsapp_webhook_events (wacid, event, received_at) VALUES (?, ?, ?)',
    );
  }

  /** True the first time this call's event is seen, false for a repeat. */
  firstTime(wacid: string, event: string, at: string): boolean {
    return this.insertStmt.run(wacid, event, at).changes === 1;
  }
}
