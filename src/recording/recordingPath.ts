import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { RECORDING_EXTENSIONS } from './ffmpegRecordArgs.js';
import type { RecordingFormat } from './recordingTypes.js';

/** config recording.dir's default, for a worker started without one. */
export const DEFAULT_RECORDING_DIR = 'data/recordings';

export function newRecordingId(): string {
  return `rec_${randomBytes(8).toString('hex')}`;
}

/**
 * `<dir>/<callId>-<recordingId>.<ext>`, absolute. The call id comes from SIP-side naming the
 * gateway controls, but anything outside a safe file-name alphabet is replaced all the same, so
 * no id can reach outside the folder.
 */
export function recordingPath(
  dir: string,
  callId: string,
  recordingId: string,
  format: RecordingFormat,
): string {
  const safe = callId.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return join(resolve(dir), `${safe}-${recordingId}.${RECORDING_EXTENSIONS[format]}`);
}
