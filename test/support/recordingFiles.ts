import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What ffprobe says of a recording (the fields the tests look at). */
export interface RecordingProbe {
  format: { format_name: string; duration: string };
  streams: { codec_type: string; codec_name: string; sample_rate: string; channels: number }[];
}

/** Opens a recording with ffprobe, as a user's player would; rejects if it cannot be read. */
export async function probeRecording(path: string): Promise<RecordingProbe> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_format',
    '-show_streams',
    '-of',
    'json',
    path,
  ]);
  return JSON.parse(stdout) as RecordingProbe;
}

/** A recording's audio decoded by ffmpeg to mono samples at `sampleRate`. */
export async function decodeRecording(path: string, sampleRate: number): Promise<Int16Array> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-f', 's16le', '-ac', '1', '-ar', String(sampleRate), '-'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  return new Int16Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.length / 2));
}
