import { createWriteStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AudioUnavailable } from '../../callErrors.js';
import { isPrivateAddress, publicOnlyLookup } from './addressPolicy.js';

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Whether loopback, private and link-local addresses may be fetched. */
  allowPrivateAddresses: boolean;
}

const MAX_REDIRECTS = 5;

/**
 * Fetches `url` into `file`, following up to five redirects (each checked like the first),
 * refusing a non-2xx answer, more than maxBytes, a private address unless allowed, or taking
 * longer than timeoutMs in all.
 */
export async function download(url: string, file: string, limits: DownloadLimits): Promise<void> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let target = new URL(url);
  let response: IncomingMessage;
  for (let redirects = 0; ; redirects++) {
    try {
      response = await get(target, limits, signal);
    } catch (error) {
      throw new AudioUnavailable(`fetching ${url} failed: ${reason(error, limits)}`);
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location) {
      response.resume();
      if (redirects >= MAX_REDIRECTS)
        throw new AudioUnavailable(`fetching ${url} failed: too many redirects`);
      target = new URL(location, target);
      continue;
    }
    if (status < 200 || status >= 300) {
      response.resume();
      throw new AudioUnavailable(`fetching ${url} failed: HTTP ${status}`);
    }
    break;
  }
  const declared = Number(response.headers['content-length'] ?? Number.NaN);
  if (declared > limits.maxBytes) {
    response.destroy();
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
    await pipeline(response, counter, createWriteStream(file), { signal });
  } catch (error) {
    if (error instanceof AudioUnavailable) throw error;
    throw new AudioUnavailable(`fetching ${url} failed: ${reason(error, limits)}`);
  }
}

function get(url: URL, limits: DownloadLimits, signal: AbortSignal): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new Error(`${url.protocol} URLs are not fetched`));
  }
  // A literal address never goes through lookup, so it is checked here.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!limits.allowPrivateAddresses && isIP(host) && isPrivateAddress(host)) {
    return Promise.reject(
      new Error(`${host} is a private address (media.playback.allowPrivateAddresses is false)`),
    );
  }
  const options: RequestOptions = {
    signal,
    ...(limits.allowPrivateAddresses ? {} : { lookup: publicOnlyLookup as RequestOptions['lookup'] }),
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, options, resolve);
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function reason(error: unknown, limits: DownloadLimits): string {
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError')
    return `no complete answer within ${limits.timeoutMs} ms`;
  const cause = (error as { cause?: Error }).cause;
  return cause?.message ?? (error as Error).message;
}
