import type { SqlStore } from './sql/sqlTypes.js';

/**
 * The WhatsApp webhook events the gateway has taken, by call and event: Meta delivers a webhook
 * again when its first delivery got no quick 200, and a control plane may relay the same one,
 * so each (wacid, event) must act once. The database decides (its primary key), so the same
 * holds when the repeat reaches another node of a cluster.
 */
export class WebhookEventStore {
  constructor(private readonly sql: SqlStore) {}

  /** True the first time this call's event is seen, false for a repeat. */
  async firstTime(wacid: string, event: string, at: string): Promise<boolean> {
    const { changes } = await this.sql.run(
      'INSERT INTO whatsapp_webhook_events (wacid, event, received_at) VALUES (?, ?, ?) ON CONFLICT (wacid, event) DO NOTHING',
      [wacid, event, at],
    );
    return changes > 0;
  }
}
