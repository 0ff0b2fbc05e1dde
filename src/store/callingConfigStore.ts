import type { SqlStore } from './sql/sqlTypes.js';

export type RecordingFormat = 'mp4' | 'ogg' | 'webm';
export type AnswerBehavior = 'webhook' | 'voicemail';

/** What an app may set about how its calls are handled. */
export interface CallingSettings {
  voicemailEnabled: boolean;
  voicemailGreetingUrl: string | null;
  voicemailMaxDuration: number;
  autoRecordEnabled: boolean;
  recordingFormat: RecordingFormat;
  defaultAnswerBehavior: AnswerBehavior;
  maxConcurrentCalls: number;
  whatsappCallingEnabled: boolean;
  whatsappSipEnabled: boolean;
}

export interface CallingConfig extends CallingSettings {
  id: string;
  appId: string;
  organizationId: string;
  createdAt: string;
  updatedAt: string;
}

/** What an app gets before anyone configured it: the conservative choice for each setting. */
export const DEFAULT_CALLING_SETTINGS: Readonly<CallingSettings> = Object.freeze({
  voicemailEnabled: false,
  voicemailGreetingUrl: null,
  voicemailMaxDuration: 120,
  autoRecordEnabled: false,
  recordingFormat: 'mp4',
  defaultAnswerBehavior: 'webhook',
  maxConcurrentCalls: 100,
  whatsappCallingEnabled: false,
  whatsappSipEnabled: false,
});

interface Row {
  app_id: string;
  id: string;
  organization_id: string;
  voicemail_enabled: number;
  voicemail_greeting_url: string | null;
  voicemail_max_duration: number;
  auto_record_enabled: number;
  recording_format: string;
  default_answer_behavior: string;
  max_concurrent_calls: number;
  whatsapp_calling_enabled: number;
  whatsapp_sip_enabled: number;
  created_at: string;
  updated_at: string;
}

function fromRow(row: Row): CallingConfig {
  return {
    id: row.id,
    appId: row.app_id,
    organizationId: row.organization_id,
    voicemailEnabled: row.voicemail_enabled === 1,
    voicemailGreetingUrl: row.voicemail_greeting_url,
    voicemailMaxDuration: row.voicemail_max_duration,
    autoRecordEnabled: row.auto_record_enabled === 1,
    recordingFormat: row.recording_format as RecordingFormat,
    defaultAnswerBehavior: row.default_answer_behavior as AnswerBehavior,
    maxConcurrentCalls: row.max_concurrent_calls,
    whatsappCallingEnabled: row.whatsapp_calling_enabled === 1,
    whatsappSipEnabled: row.whatsapp_sip_enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const UPSERT = `
  INSERT INTO calling_configs (
    app_id, id, organization_id, voicemail_enabled, voicemail_greeting_url, voicemail_max_duration,
    auto_record_enabled, recording_format, default_answer_behavior, max_concurrent_calls,
    whatsapp_calling_enabled, whatsapp_sip_enabled, created_at, updated_at
  ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (app_id) DO UPDATE SET
    voicemail_enabled = excluded.voicemail_enabled,
    voicemail_greeting_url = excluded.voicemail_greeting_url,
    voicemail_max_duration = excluded.voicemail_max_duration,
    auto_record_enabled = excluded.auto_record_enabled,
    recording_format = excluded.recording_format,
    default_answer_behavior = excluded.default_answer_behavior,
    max_concurrent_calls = excluded.max_concurrent_calls,
    whatsapp_calling_enabled = excluded.whatsapp_calling_enabled,
    whatsapp_sip_enabled = excluded.whatsapp_sip_enabled,
    updated_at = excluded.updated_at`;

const SELECT_ONE = 'SELECT * FROM calling_configs WHERE app_id = ?';

export interface CallingConfigKey {
  appId: string;
  organizationId: string;
  newId: () => string;
  now: string;
}

/**
 * Calling configuration rows, one per app, and every one of them in memory: `settingsFor` runs
 * on every call's path (admission, answer, recording) and must not wait on a database, so calls
 * read the copy `load` filled at start and each `update` refreshes after its write commits.
 *
 * In a cluster another node's update reaches this copy only at the next `refresh()`: a call here
 * follows the configuration as this node last loaded or wrote it. Nothing invalidates it across
 * nodes yet.
 */
export class CallingConfigStore {
  private configs = new Map<string, CallingConfig>();

  constructor(private readonly sql: SqlStore) {}

  /** Reads every configuration into memory; before the first call (Gateway.start). */
  async load(): Promise<void> {
    const rows = await this.sql.all<Row>('SELECT * FROM calling_configs');
    // Replaced whole, so a configuration deleted underneath does not linger.
    this.configs = new Map(rows.map((row) => [row.app_id, fromRow(row)]));
  }

  /** Loads again: how a node sees configurations other nodes changed (SharedConfigRefresh). */
  refresh(): Promise<void> {
    return this.load();
  }

  /** The stored configuration (the API's read: the database, not the copy calls use). */
  async get(appId: string): Promise<CallingConfig | undefined> {
    const row = await this.sql.get<Row>(SELECT_ONE, [appId]);
    return row ? fromRow(row) : undefined;
  }

  /** The settings calls of this app follow: its configuration, or the defaults where it has none. */
  settingsFor(appId: string): Readonly<CallingSettings> {
    return this.configs.get(appId) ?? DEFAULT_CALLING_SETTINGS;
  }

  /**
   * Reads the current settings (or the defaults), lets `change` compute the new ones, and writes
   * them, all in one transaction so two concurrent updates cannot lose each other's fields; the
   * copy calls read takes the result once it is committed.
   */
  async update(
    key: CallingConfigKey,
    change: (current: CallingSettings) => CallingSettings,
  ): Promise<CallingConfig> {
    const saved = await this.sql.transaction(async (tx) => {
      const row = await tx.get<Row>(SELECT_ONE, [key.appId]);
      const existing = row ? fromRow(row) : undefined;
      const next = change(existing ? settingsOf(existing) : { ...DEFAULT_CALLING_SETTINGS });
      await tx.run(UPSERT, [
        key.appId,
        // The id and createdAt of the first write stay: an app's configuration keeps one identity.
        existing?.id ?? key.newId(),
        existing?.organizationId ?? key.organizationId,
        Number(next.voicemailEnabled),
        next.voicemailGreetingUrl,
        next.voicemailMaxDuration,
        Number(next.autoRecordEnabled),
        next.recordingFormat,
        next.defaultAnswerBehavior,
        next.maxConcurrentCalls,
        Number(next.whatsappCallingEnabled),
        Number(next.whatsappSipEnabled),
        existing?.createdAt ?? key.now,
        key.now,
      ]);
      const written = await tx.get<Row>(SELECT_ONE, [key.appId]);
      if (!written)
        throw new Error(`calling configuration of ${key.appId} vanished inside its own transaction`);
      return fromRow(written);
    });
    this.configs.set(saved.appId, saved);
    return saved;
  }
}

export function settingsOf(config: CallingConfig): CallingSettings {
  return {
    voicemailEnabled: config.voicemailEnabled,
    voicemailGreetingUrl: config.voicemailGreetingUrl,
    voicemailMaxDuration: config.voicemailMaxDuration,
    autoRecordEnabled: config.autoRecordEnabled,
    recordingFormat: config.recordingFormat,
    defaultAnswerBehavior: config.defaultAnswerBehavior,
    maxConcurrentCalls: config.maxConcurrentCalls,
    whatsappCallingEnabled: config.whatsappCallingEnabled,
    whatsappSipEnabled: config.whatsappSipEnabled,
  };
}
