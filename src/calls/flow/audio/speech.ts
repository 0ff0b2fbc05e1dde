import { spawn } from 'node:child_process';
import { AudioUnavailable } from '../../callErrors.js';
import { decodeToPcm } from './decode.js';

export interface SpeechRequest {
  text: string;
  /** An espeak-ng voice (`en-us`, `en+f3`) or language tag (`de-DE`); espeak-ng matches either. */
  voice: string;
}

/**
 * Speaks `text` with espeak-ng (WAV on its stdout, the text on its stdin so no text is ever read
 * as an option) and decodes it to 48 kHz mono PCM in `output`.
 */
export async function synthesize(request: SpeechRequest, output: string, maxSeconds: number): Promise<void> {
  const espeak = spawn('espeak-ng', ['-v', request.voice, '--stdout'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  espeak.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-1000);
  });
  const exited = new Promise<number | null>((resolve) => {
    espeak.on('error', (error) => {
      stderr = `could not run: ${error.message}`;
      resolve(null);
    });
    espeak.on('close', (code) => resolve(code));
  });
  espeak.stdin.on('error', () => undefined);
  espeak.stdin.end(request.text);
  const [code, decoded] = await Promise.all([
    exited,
    decodeToPcm({ stream: espeak.stdout, format: 'wav' }, output, maxSeconds).then(
      () => undefined,
      (error: unknown) => error,
    ),
  ]);
  if (code !== 0) {
    throw new AudioUnavailable(
      `espeak-ng (voice ${request.voice}) failed: ${stderr.trim() || `exit ${code}`}`,
    );
  }
  if (decoded) throw decoded;
}
