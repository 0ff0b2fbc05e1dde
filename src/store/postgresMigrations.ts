import { type Migration, nodeOwnershipSql } from './migrations.js';

/**
 * Schema history on PostgreSQL. It starts at version 11, the SQLite schema of the release that
 * first ran on PostgreSQL, in one step: no PostgreSQL database ever had an older one. From then
 * on every change is a pair, the same version here and in migrations.ts, and
 * test/unit/store/schemaParity.test.ts checks the two schemas have the same tables and columns.
 *
 * Types follow the SQLite schema so rows read alike: times are ISO-8601 TEXT (they sort as
 * text), flags INTEGER 0/1, JSON as TEXT; counters and sizes BIGINT (the client reads them as
 * numbers).
 */
export const postgresMigrations: readonly Migration[] = [
  {
    version: 11,
    name: 'schema of release 11 (calling configs, calls, outbox, sip legs, liveness, webhooks, recordings, routing)',
    sql: `
      CREATE TABLE calling_configs (
        app_id                   TEXT PRIMARY KEY,
        id                       TEXT NOT NULL UNIQUE,
        organization_id          TEXT NOT NULL,
        voicemail_enabled        INTEGER NOT NULL,
        voicemail_greeting_url   TEXT,
        voicemail_max_duration   INTEGER NOT NULL,
        auto_record_enabled      INTEGER NOT NULL,
        recording_format         TEXT NOT NULL,
        default_answer_behavior  TEXT NOT NULL,
        max_concurrent_calls     INTEGER NOT NULL,
        whatsapp_calling_enabled INTEGER NOT NULL,
        whatsapp_sip_enabled     INTEGER NOT NULL,
        created_at               TEXT NOT NULL,
        updated_at               TEXT NOT NULL
      );

      CREATE TABLE calls (
        id                TEXT PRIMARY KEY,
        app_id            TEXT NOT NULL,
        direction         TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        status            TEXT NOT NULL,
        from_address      TEXT NOT NULL,
        to_address        TEXT NOT NULL,
        from_channel      TEXT NOT NULL,
        to_channel        TEXT NOT NULL,
        end_reason        TEXT,
        sip_status        INTEGER,
        metadata          TEXT NOT NULL DEFAULT '{}',
        livekit_room_name TEXT,
        started_at        TEXT,
        answered_at       TEXT,
        ended_at          TEXT,
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        sip_call_id       TEXT,
        answered_by       TEXT,
        voicemail_at      TEXT,
        media_encryption  TEXT,
        sip_reason        TEXT,
        quality           TEXT
      );
      CREATE INDEX calls_by_app_created ON calls (app_id, created_at DESC);
      CREATE INDEX calls_live_by_app ON calls (app_id) WHERE ended_at IS NULL;
      CREATE INDEX calls_by_created ON calls (created_at DESC);

      CREATE TABLE event_outbox (
        seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id   TEXT NOT NULL UNIQUE,
        event      TEXT NOT NULL,
        call_id    TEXT,
        payload    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        acked_at   TEXT
      );
      CREATE INDEX event_outbox_unacked ON event_outbox (seq) WHERE acked_at IS NULL;
      CREATE TABLE event_channel_state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );

      CREATE TABLE sip_legs (
        sip_call_id   TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('uas', 'uac')),
        call_id       TEXT NOT NULL,
        txn_id        TEXT NOT NULL,
        request_uri   TEXT NOT NULL,
        dialog_id     TEXT,
        local_party   TEXT,
        remote_party  TEXT,
        remote_target TEXT,
        route_set     TEXT NOT NULL DEFAULT '[]',
        local_cseq    BIGINT,
        transport     TEXT,
        created_at    TEXT NOT NULL,
        PRIMARY KEY (sip_call_id, role)
      );
      CREATE INDEX sip_legs_by_call ON sip_legs (call_id);
      CREATE TABLE gateway_liveness (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        alive_at TEXT NOT NULL
      );

      CREATE TABLE whatsapp_webhook_events (
        wacid       TEXT NOT NULL,
        event       TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (wacid, event)
      );

      CREATE TABLE recordings (
        id          TEXT PRIMARY KEY,
        app_id      TEXT NOT NULL,
        call_id     TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('call', 'voicemail', 'flow')),
        format      TEXT NOT NULL,
        path        TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('recording', 'completed', 'failed', 'interrupted')),
        duration_ms BIGINT,
        bytes       BIGINT,
        started_at  TEXT NOT NULL,
        ended_at    TEXT
      );
      CREATE INDEX recordings_by_app_started ON recordings (app_id, started_at DESC, id DESC);
      CREATE INDEX recordings_by_started ON recordings (started_at DESC, id DESC);
      CREATE INDEX recordings_by_call ON recordings (call_id);
      CREATE INDEX recordings_in_progress ON recordings (id) WHERE state = 'recording';

      CREATE TABLE sip_trunks (
        name       TEXT PRIMARY KEY,
        config     TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE sip_numbers (
        number     TEXT PRIMARY KEY,
        app_id     TEXT NOT NULL,
        trunk      TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE sip_apps (
        app_id         TEXT PRIMARY KEY,
        outbound_trunk TEXT NOT NULL,
        updated_at     TEXT NOT NULL
      );
    `,
  },
  {
    version: 12,
    name: 'the node that carries each call, per-node liveness',
    sql: nodeOwnershipSql(''),
  },
];
