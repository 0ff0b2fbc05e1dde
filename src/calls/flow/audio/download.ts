import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { AudioUnavailable } from './audioErrors.js';

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs: number;
}

/** Fetches `url` into `file`, refusing a non-2xx answer, more than maxBytes, or taking longer than timeoutMs. */
export async function download(url: string, file: string, limits: DownloadLimits): Promise<void> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (error) {
    throw new AudioUnavailable(`fetching ${url} failed: ${reason(error, limits)}`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new AudioUnavailable(`fetching ${url} failed: HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limits.maxBytes) {
    await response.body.cancel().catch(() => undefined);
    throw new AudioUnavailable(`${url} is ${declared} bytes, more than media.playback.maxDownloadBytes`);
  }
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > limits.maxBytes) {
        done(new AudioUnavailable(`${url} is more than media.playback.maxDownloadBytes`));
      } else {
        done(null, chunk);
      }
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as ReadableStream), counter, createWriteStream(file));
  } catch (error) {
    if (error instanceof AudioUnavailable) throw error;
    throw new AudioUnavailable(`fetching ${url} failed: ${reason(error, limits)}`);
  }
}

function reason(error: unknown, limits: DownloadLimits): string {
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError')
    return `no complete answer within ${limits.timeoutMs} ms`;
  const cause = (error as { cause?: Error }).cause;
  return cause?.message ?? (error as Error).message;
}
