import { type TrunkConfig, trunkSchema } from '../config/sipSchema.js';
import type { SqlStore } from './sql/sqlTypes.js';

/** A trunk made by the routing API, as stored: its config (secrets included) and when. */
export interface StoredTrunk {
  config: TrunkConfig;
  createdAt: string;
  updatedAt: string;
}

/** A called number routed by the API: its app and, when set, the only trunk that may deliver it. */
export interface StoredNumber {
  number: string;
  appId: string;
  trunk: string | null;
  createdAt: string;
}

/** An app's outbound trunk set by the API. */
export interface StoredAppRouting {
  appId: string;
  outboundTrunk: string;
  updatedAt: string;
}

interface TrunkRow {
  name: string;
  config: string;
  created_at: string;
  updated_at: string;
}

interface NumberRow {
  number: string;
  app_id: string;
  trunk: string | null;
  created_at: string;
}

interface AppRow {
  app_id: string;
  outbound_trunk: string;
  updated_at: string;
}

/**
 * The routing API's trunks, numbers and per-app outbound trunks (migration 11). Only what the
 * API made: YAML entries are never written here. Checks (names taken, references) are the
 * caller's: this is storage only. Changes are single statements run at once (not batched
 * writes): an API caller is told whether its change was stored, and a database that is away
 * fails the request rather than holding it.
 */
export class RoutingStore {
  constructor(private readonly sql: SqlStore) {}

  /** Trunks that pass the trunk schema, and the names of those that no longer do. */
  async trunks(): Promise<{ trunks: StoredTrunk[]; invalid: string[] }> {
    const rows = await this.sql.all<TrunkRow>(
      'SELECT name, config, created_at, updated_at FROM sip_trunks ORDER BY created_at, name',
    );
    // Read through the trunk schema, so fields added to it since a trunk was stored get their
    // defaults; a row the schema no longer takes is left out (and named in `invalid`).
    const trunks: StoredTrunk[] = [];
    const invalid: string[] = [];
    for (const row of rows) {
      const parsed = trunkSchema.safeParse(JSON.parse(row.config));
      if (parsed.success) {
        trunks.push({ config: parsed.data, createdAt: row.created_at, updatedAt: row.updated_at });
      } else {
        invalid.push(row.name);
      }
    }
    return { trunks, invalid };
  }

  /** Inserts or replaces the trunk of that name (keeping its createdAt when it existed). */
  async putTrunk(config: TrunkConfig, now: string): Promise<void> {
    await this.sql.run(
      `INSERT INTO sip_trunks (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
      [config.name, JSON.stringify(config), now, now],
    );
  }

  async deleteTrunk(name: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM sip_trunks WHERE name = ?', [name])).changes > 0;
  }

  async numbers(): Promise<StoredNumber[]> {
    const rows = await this.sql.all<NumberRow>(
      'SELECT number, app_id, trunk, created_at FROM sip_numbers ORDER BY number',
    );
    return rows.map((row) => ({
      number: row.number,
      appId: row.app_id,
      trunk: row.trunk,
      createdAt: row.created_at,
    }));
  }

  /** False when the number is stored already. */
  async addNumber(entry: StoredNumber): Promise<boolean> {
    const result = await this.sql.run(
      'INSERT INTO sip_numbers (number, app_id, trunk, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (number) DO NOTHING',
      [entry.number, entry.appId, entry.trunk, entry.createdAt],
    );
    return result.changes > 0;
  }

  async deleteNumber(number: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM sip_numbers WHERE number = ?', [number])).changes > 0;
  }

  async apps(): Promise<StoredAppRouting[]> {
    const rows = await this.sql.all<AppRow>(
      'SELECT app_id, outbound_trunk, updated_at FROM sip_apps ORDER BY app_id',
    );
    return rows.map((row) => ({
      appId: row.app_id,
      outboundTrunk: row.outbound_trunk,
      updatedAt: row.updated_at,
    }));
  }

  /** Sets the app's outbound trunk; null removes it. */
  async setAppTrunk(appId: string, outboundTrunk: string | null, now: string): Promise<void> {
    if (outboundTrunk === null) {
      await this.sql.run('DELETE FROM sip_apps WHERE app_id = ?', [appId]);
      return;
    }
    await this.sql.run(
      `INSERT INTO sip_apps (app_id, outbound_trunk, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (app_id) DO UPDATE SET outbound_trunk = excluded.outbound_trunk, updated_at = excluded.updated_at`,
      [appId, outboundTrunk, now],
    );
  }
}
