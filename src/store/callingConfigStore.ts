import type { Database } from './database.js';

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

/** Calling configuration rows, one per app. */
export class CallingConfigStore {
  private readonly selectStmt;
  private readonly upsertStmt;

  constructor(private readonly db: Database) {
    this.selectStmt = db.sql.prepare<[string], Row>('SELECT * FROM calling_configs WHERE app_id = ?');
    // The id and createdAt of the first write stay: an app's configuration keeps one identity.
    this.upsertStmt = db.sql.prepare(`
      INSERT INTO calling_configs (
        app_id, id, organization_id, voicemail_enabled, voicemail_greeting_url, voicemail_max_duration,
        auto_record_enabled, recording_format, default_answer_behavior, max_concurrent_calls,
        whatsapp_calling_enabled, whatsapp_sip_enabled, created_at, updated_at
      ) VALUES (
        @appId, @id, @organizationId, @voicemailEnabled, @voicemailGreetingUrl, @voicemailMaxDuration,
        @autoRecordEnabled, @recordingFormat, @defaultAnswerBehavior, @maxConcurrentCalls,
        @whatsappCallingEnabled, @whatsappSipEnabled, @createdAt, @updatedAt
      )
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
        updated_at = excluded.updated_at
    `);
  }

  get(appId: string): CallingConfig | undefined {
    const row = this.selectStmt.get(appId);
    return row ? fromRow(row) : undefined;
  }

  /** The settings calls of this app follow: its configuration, or the defaults where it has none. */
  settingsFor(appId: string): Readonly<CallingSettings> {
    return this.get(appId) ?? DEFAULT_CALLING_SETTINGS;
  }

  /**
   * Reads the current settings (or the defaults), lets `change` compute the new ones, and writes
   * them, all in one transaction so two concurrent updates cannot lose each other's fields.
   */
  update(
    key: { appId: string; organizationId: string; newId: () => string; now: string },
    change: (current: CallingSettings) => CallingSettings,
  ): CallingConfig {
    return this.db.sql.transaction(() => {
      const existing = this.get(key.appId);
      const next = change(existing ? settingsOf(existing) : { ...DEFAULT_CALLING_SETTINGS });
      this.upsertStmt.run({
        appId: key.appId,
        id: existing?.id ?? key.newId(),
        organizationId: existing?.organizationId ?? key.organizationId,
        voicemailEnabled: Number(next.voicemailEnabled),
        voicemailGreetingUrl: next.voicemailGreetingUrl,
        voicemailMaxDuration: next.voicemailMaxDuration,
        autoRecordEnabled: Number(next.autoRecordEnabled),
        recordingFormat: next.recordingFormat,
        defaultAnswerBehavior: next.defaultAnswerBehavior,
        maxConcurrentCalls: next.maxConcurrentCalls,
        whatsappCallingEnabled: Number(next.whatsappCallingEnabled),
        whatsappSipEnabled: Number(next.whatsappSipEnabled),
        createdAt: existing?.createdAt ?? key.now,
        updatedAt: key.now,
      });
      const saved = this.get(key.appId);
      if (!saved)
        throw new Error(`calling configuration of ${key.appId} vanished inside its own transaction`);
      return saved;
    })();
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
