import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { AudioUnavailable } from '../../callErrors.js';

/** A decode (or synthesis) that takes longer than this is killed: real prompts take well under a second. */
const DECODE_TIMEOUT_MS = 60_000;
/**
 * Demuxers ffmpeg may use on audio from outside. Without a list, a "file" that is really an HLS
 * or concat playlist would make ffmpeg open other files or URLs on the gateway's behalf.
 */
const AUDIO_FORMATS = 'wav,mp3,ogg,flac,mov,aac,matroska,aiff,au,caf,amr,w64';
/** What the media worker plays: 48 kHz, mono, signed 16-bit little-endian, no header. */
const OUTPUT = ['-ac', '1', '-ar', '48000', '-f', 's16le', '-acodec', 'pcm_s16le'];

export interface DecodeInput {
  /** A local file, or a stream written to ffmpeg's stdin (`format` then names its demuxer). */
  file?: string;
  stream?: Readable;
  format?: string;
}

/** Decodes audio to raw 48 kHz mono s16le in `output`, cut at `maxSeconds`. */
export async function decodeToPcm(input: DecodeInput, output: string, maxSeconds: number): Promise<void> {
  const source = input.file
    ? ['-protocol_whitelist', 'file', '-i', `file:${input.file}`]
    : ['-protocol_whitelist', 'pipe', ...(input.format ? ['-f', input.format] : []), '-i', 'pipe:0'];
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-format_whitelist',
    AUDIO_FORMATS,
    ...source,
    '-t',
    String(maxSeconds),
    ...OUTPUT,
    '-y',
    output,
  ];
  // -nostdin stops ffmpeg reading commands from stdin; pipe:0 still reads the audio from it.
  if (input.stream) args.splice(args.indexOf('-nostdin'), 1);
  await run('ffmpeg', args, input.stream);
}

/** Runs a tool to completion; rejects with its last stderr lines when it fails or overruns. */
export function run(command: string, args: string[], stdin?: Readable | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), DECODE_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new AudioUnavailable(`${command} could not run: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const why = signal ? `was killed (${signal})` : `exited with ${code}`;
        reject(new AudioUnavailable(`${command} ${why}: ${stderr.trim().split('\n').slice(-2).join(' ')}`));
      }
    });
    if (child.stdin) {
      // The tool may exit before reading everything (bad input); that is its error to report.
      child.stdin.on('error', () => undefined);
      if (typeof stdin === 'string') child.stdin.end(stdin);
      else if (stdin) {
        stdin.on('error', () => child.stdin?.destroy());
        stdin.pipe(child.stdin);
      }
    }
  });
}
