/**
 * Schema history, applied in order at start-up. A migration is never edited once released:
 * a change is a new entry, so every database, old or new, ends on the same schema.
 * The applied version lives in SQLite's own `user_version`, set in the same transaction as the
 * change, so a crash mid-migration leaves the old version and the old schema.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'calling configuration per app',
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
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'calls',
    sql: `
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
        updated_at        TEXT NOT NULL
      ) STRICT;
      CREATE INDEX calls_by_app_created ON calls (app_id, created_at DESC);
      -- Live calls are few and looked up on every new call (concurrency limits).
      CREATE INDEX calls_live_by_app ON calls (app_id) WHERE ended_at IS NULL;
    `,
  },
  {
    version: 3,
    name: 'event outbox',
    sql: `
      -- Events for the control plane, written in the same transaction as the change they describe.
      -- seq is the delivery order and the unit of acknowledgement.
      CREATE TABLE event_outbox (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id   TEXT NOT NULL UNIQUE,
        event      TEXT NOT NULL,
        call_id    TEXT,
        payload    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        acked_at   TEXT
      ) STRICT;
      CREATE INDEX event_outbox_unacked ON event_outbox (seq) WHERE acked_at IS NULL;
      -- Small durable facts of the event channel (the highest seq the control plane acked).
      CREATE TABLE event_channel_state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'call log details',
    sql: `
      -- What a CRM's call record needs beyond the Call object: the SIP Call-ID of the leg, the
      -- first participant who took the call in its room, and whether it went to voicemail.
      ALTER TABLE calls ADD COLUMN sip_call_id TEXT;
      ALTER TABLE calls ADD COLUMN answered_by TEXT;
      ALTER TABLE calls ADD COLUMN voicemail_at TEXT;
      CREATE INDEX calls_by_created ON calls (created_at DESC);
    `,
  },
  {
    version: 5,
    name: 'sip legs and gateway liveness',
    sql: `
      -- What ending a SIP leg needs when the process that held it is gone (kill -9, crash): the
      -- SIP server's transaction id while the INVITE has no final answer, then the dialog (its
      -- id at the SIP server, and Call-ID, tags, target, route set and CSeq for a BYE built by
      -- hand when the SIP server lost it too). A row lives from the INVITE to the call's end.
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
        local_cseq    INTEGER,
        transport     TEXT,
        created_at    TEXT NOT NULL,
        PRIMARY KEY (sip_call_id, role)
      ) STRICT;
      CREATE INDEX sip_legs_by_call ON sip_legs (call_id);
      -- The running gateway's heartbeat: after a crash, when it died (calls end then, not at restart).
      CREATE TABLE gateway_liveness (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        alive_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'media encryption of a call',
    sql: `
      -- How the SIP leg's media was keyed (none, sdes, dtls) once its offer/answer settled;
      -- NULL while it has none yet, or for a call without a SIP leg.
      ALTER TABLE calls ADD COLUMN media_encryption TEXT;
    `,
  },
  {
    version: 7,
    name: 'reason phrase of the final response that ended a call',
    sql: `
      -- The far end's reason phrase beside sip_status (Meta says why it refused: "SIP server ...
      -- does not match"); NULL when no far end's final response ended the call.
      ALTER TABLE calls ADD COLUMN sip_reason TEXT;
    `,
  },
  {
    version: 8,
    name: 'WhatsApp webhook events already taken',
    sql: `
      -- Meta retries a webhook it got no quick 200 for: each (call, event) is taken once.
      CREATE TABLE whatsapp_webhook_events (
        wacid       TEXT NOT NULL,
        event       TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (wacid, event)
      ) STRICT;
    `,
  },
  {
    version: 9,
    name: 'recordings',
    sql: `
      -- One row per recording a media worker made of a call (whole call, voicemail, record verb),
      -- from its start to its end; id is the worker's recordingId. path is the file, absolute.
      -- duration_ms and bytes are known once it ended (bytes also for one cut off by a crash).
      CREATE TABLE recordings (
        id          TEXT PRIMARY KEY,
        app_id      TEXT NOT NULL,
        call_id     TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('call', 'voicemail', 'flow')),
        format      TEXT NOT NULL,
        path        TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('recording', 'completed', 'failed', 'interrupted')),
        duration_ms INTEGER,
        bytes       INTEGER,
        started_at  TEXT NOT NULL,
        ended_at    TEXT
      ) STRICT;
      CREATE INDEX recordings_by_app_started ON recordings (app_id, started_at DESC, id DESC);
      CREATE INDEX recordings_by_started ON recordings (started_at DESC, id DESC);
      CREATE INDEX recordings_by_call ON recordings (call_id);
      -- Few at a time; read at start-up to find those a crash cut off.
      CREATE INDEX recordings_in_progress ON recordings (id) WHERE state = 'recording';
    `,
  },
  {
    version: 10,
    name: 'call quality',
    sql: `
      -- The caller leg's final quality figures (CallQuality as JSON: packetLossRatio, jitterMs,
      -- roundTripMs, mos, packetsReceived, packetsLost, updatedAt), written when the call ends;
      -- NULL while live (the live figures are kept in memory) or when its leg received no RTP.
      ALTER TABLE calls ADD COLUMN quality TEXT;
    `,
  },
  {
    version: 11,
    name: 'SIP routing by API: trunks, numbers, per-app outbound trunks',
    sql: `
      -- Trunks made by the routing API (POST /v1/sip/trunks); YAML trunks are not stored here.
      -- config is the trunk as sip.trunks[] has it (JSON, secrets included: never returned).
      CREATE TABLE sip_trunks (
        name       TEXT PRIMARY KEY,
        config     TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      -- Called numbers → app; trunk, when set, is the only trunk that may deliver the number.
      CREATE TABLE sip_numbers (
        number     TEXT PRIMARY KEY,
        app_id     TEXT NOT NULL,
        trunk      TEXT,
        created_at TEXT NOT NULL
      ) STRICT;
      -- The trunk an app's outbound PSTN calls use (PATCH /v1/organization/apps/{appId}/sip).
      CREATE TABLE sip_apps (
        app_id         TEXT PRIMARY KEY,
        outbound_trunk TEXT NOT NULL,
        updated_at     TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 12,
    name: 'the node that carries each call, per-node liveness',
    sql: nodeOwnershipSql('STRICT'),
  },
];

/**
 * Migration 12, the same on both engines but for SQLite's STRICT: which gateway node carries a
 * live call, its SIP legs, its recordings and its events, and each node's heartbeat.
 */
export function nodeOwnershipSql(tableOptions: 'STRICT' | ''): string {
  return `
      -- Which gateway node carries a live call, its SIP legs and its recordings: on a database
      -- several nodes share, a node restarting ends only what it left, never another's. NULL on
      -- rows from before: a single node's, taken as the node 'local' (a node with no cluster id).
      ALTER TABLE calls ADD COLUMN node_id TEXT;
      ALTER TABLE sip_legs ADD COLUMN node_id TEXT;
      ALTER TABLE recordings ADD COLUMN node_id TEXT;
      -- Each node delivers its own stream of events (seq order is commit order only within one
      -- node: one writer each); a survivor resumes a dead node's stream.
      ALTER TABLE event_outbox ADD COLUMN node_id TEXT;
      CREATE INDEX calls_live_by_node ON calls (node_id) WHERE ended_at IS NULL;
      -- Each node's heartbeat (gateway_liveness held the one node's).
      CREATE TABLE node_liveness (
        node_id  TEXT PRIMARY KEY,
        alive_at TEXT NOT NULL
      ) ${tableOptions};
      INSERT INTO node_liveness (node_id, alive_at) SELECT 'local', alive_at FROM gateway_liveness;
    `;
}
