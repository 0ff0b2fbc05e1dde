import { type TrunkConfig, trunkSchema } from '../config/sipSchema.js';
import type { Database } from './database.js';

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
 * caller's: this is storage only.
 */
export class RoutingStore {
  constructor(private readonly database: Database) {}

  trunks(): StoredTrunk[] {
    const rows = this.database.sql
      .prepare('SELECT name, config, created_at, updated_at FROM sip_trunks ORDER BY created_at, name')
      .all() as TrunkRow[];
    // Read through the trunk schema, so fields added to it since a trunk was stored get their
    // defaults; a row the schema no longer takes is left out (and shown by invalidTrunks).
    return rows.flatMap((row) => {
      const parsed = trunkSchema.safeParse(JSON.parse(row.config));
      return parsed.success
        ? [{ config: parsed.data, createdAt: row.created_at, updatedAt: row.updated_at }]
        : [];
    });
  }

  /** Names of stored trunks the trunk schema no longer takes (left out of trunks()). */
  invalidTrunks(): string[] {
    const rows = this.database.sql.prepare('SELECT name, config FROM sip_trunks').all() as TrunkRow[];
    return rows
      .filter((row) => !trunkSchema.safeParse(JSON.parse(row.config)).success)
      .map((row) => row.name);
  }

  /** Inserts or replaces the trunk of that name (keeping its createdAt when it existed). */
  putTrunk(config: TrunkConfig, now: string): void {
    this.database.sql
      .prepare(
        `INSERT INTO sip_trunks (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
      )
      .run(config.name, JSON.stringify(config), now, now);
  }

  deleteTrunk(name: string): boolean {
    return this.database.sql.prepare('DELETE FROM sip_trunks WHERE name = ?').run(name).changes > 0;
  }

  numbers(): StoredNumber[] {
    const rows = this.database.sql
      .prepare('SELECT number, app_id, trunk, created_at FROM sip_numbers ORDER BY number')
      .all() as NumberRow[];
    return rows.map((row) => ({
      number: row.number,
      appId: row.app_id,
      trunk: row.trunk,
      createdAt: row.created_at,
    }));
  }

  /** False when the number is stored already. */
  addNumber(entry: StoredNumber): boolean {
    const result = this.database.sql
      .prepare(
        'INSERT INTO sip_numbers (number, app_id, trunk, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(entry.number, entry.appId, entry.trunk, entry.createdAt);
    return result.changes > 0;
  }

  deleteNumber(number: string): boolean {
    return this.database.sql.prepare('DELETE FROM sip_numbers WHERE number = ?').run(number).changes > 0;
  }

  apps(): StoredAppRouting[] {
    const rows = this.database.sql
      .prepare('SELECT app_id, outbound_trunk, updated_at FROM sip_apps ORDER BY app_id')
      .all() as AppRow[];
    return rows.map((row) => ({
      appId: row.app_id,
      outboundTrunk: row.outbound_trunk,
      updatedAt: row.updated_at,
    }));
  }

  /** Sets the app's outbound trunk; null removes it. */
  setAppTrunk(appId: string, outboundTrunk: string | null, now: string): void {
    if (outboundTrunk === null) {
      this.database.sql.prepare('DELETE FROM sip_apps WHERE app_id = ?').run(appId);
      return;
    }
    this.database.sql
      .prepare(
        `INSERT INTO sip_apps (app_id, outbound_trunk, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (app_id) DO UPDATE SET outbound_trunk = excluded.outbound_trunk, updated_at = excluded.updated_at`,
      )
      .run(appId, outboundTrunk, now);
  }
}
