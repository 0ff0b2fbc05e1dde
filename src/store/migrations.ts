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
];
