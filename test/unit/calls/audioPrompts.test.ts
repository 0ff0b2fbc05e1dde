import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioUnavailable } from '../../../src/calls/callErrors.js';
import { AudioPrompts, type PlaybackSettings } from '../../../src/calls/flow/audio/audioPrompts.js';
import { analyseTone } from '../../support/tone.js';

/** Playback audio with the real ffmpeg and espeak-ng: fetch, refuse, decode, cache. */
let root: string;
let allowed: string;
let server: Server;
let base: string;
const requests: string[] = [];

function settings(more: Partial<PlaybackSettings> = {}): PlaybackSettings {
  return {
    cacheDir: mkdtempSync(join(root, 'cache-')),
    cacheMaxBytes: 100 * 1024 * 1024,
    fileDirs: [allowed],
    maxDownloadBytes: 1024 * 1024,
    downloadTimeoutMs: 2000,
    maxDurationSeconds: 60,
    // The test's server is on loopback.
    allowPrivateAddresses: true,
    ...more,
  };
}

function prompts(more: Partial<PlaybackSettings> = {}): AudioPrompts {
  return new AudioPrompts(settings(more), pino({ level: 'silent' }));
}

function samplesOf(path: string): Int16Array {
  const bytes = readFileSync(path);
  return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'audio-prompts-'));
  allowed = join(root, 'prompts');
  mkdirSync(allowed);
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=1',
    '-y',
    join(allowed, 'a.wav'),
  ]);
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=600:duration=0.5',
    '-y',
    join(allowed, 'b.mp3'),
  ]);
  writeFileSync(join(allowed, 'not-audio.wav'), 'hello, I am text');
  writeFileSync(join(root, 'secret.wav'), readFileSync(join(allowed, 'a.wav')));
  symlinkSync(join(root, 'secret.wav'), join(allowed, 'escape.wav'));
  writeFileSync(
    join(allowed, 'list.m3u8'),
    `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile://${join(root, 'secret.wav')}\n#EXT-X-ENDLIST\n`,
  );
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/a.wav') res.end(readFileSync(join(allowed, 'a.wav')));
    else if (req.url === '/big') res.end(Buffer.alloc(2 * 1024 * 1024));
    else if (req.url === '/moved') res.writeHead(302, { location: '/a.wav' }).end();
    else if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
    else if (req.url === '/slow') setTimeout(() => res.end('late'), 5000);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

describe('AudioPrompts', () => {
  it('decodes a local file to 48 kHz mono PCM, once, and shares concurrent asks', async () => {
    const audio = prompts();
    const [path, again] = await Promise.all([
      audio.forLocation(join(allowed, 'a.wav')),
      audio.forLocation(`file://${join(allowed, 'a.wav')}`),
    ]);
    expect(again).toBe(path);
    const samples = samplesOf(path);
    expect(Math.abs(samples.length - 48_000)).toBeLessThan(1200);
    expect(Math.abs(analyseTone(samples.subarray(0, 24_000), 48_000).frequencyHz - 440)).toBeLessThanOrEqual(
      2,
    );
    const written = statSync(path).mtimeMs;
    expect(await audio.forLocation(join(allowed, 'a.wav'))).toBe(path);
    expect(statSync(path).size).toBe(samples.length * 2);
    expect(statSync(path).mtimeMs).toBeGreaterThanOrEqual(written);
    expect(samplesOf(await audio.forLocation(join(allowed, 'b.mp3'))).length).toBeGreaterThan(20_000);
  });

  it('downloads http(s) audio once per URL', async () => {
    const audio = prompts();
    const before = requests.length;
    const path = await audio.forLocation(`${base}/a.wav`);
    expect(await audio.forLocation(`${base}/a.wav`)).toBe(path);
    expect(requests.length - before).toBe(1);
    expect(samplesOf(path).length).toBeGreaterThan(40_000);
  });

  it('refuses files outside media.playback.fileDirs, before and after following links', async () => {
    const audio = prompts();
    expect(audio.refusal(`${base}/a.wav`)).toBeUndefined();
    expect(audio.refusal(join(allowed, 'a.wav'))).toBeUndefined();
    expect(audio.refusal('/etc/passwd')).toMatch(/fileDirs/);
    expect(audio.refusal(`${allowed}/../secret.wav`)).toMatch(/fileDirs/);
    expect(audio.refusal('file://elsewhere.example/a.wav')).toMatch(/local file/);
    await expect(audio.forLocation(join(allowed, 'escape.wav'))).rejects.toThrow(/fileDirs/);
    await expect(audio.forLocation(join(allowed, 'missing.wav'))).rejects.toThrow(/no such file/);
  });

  it('fails clearly on a failed download, an oversized one, a slow one, and on what is not audio', async () => {
    const audio = prompts();
    await expect(audio.forLocation(`${base}/nothing.wav`)).rejects.toThrow(/HTTP 404/);
    await expect(audio.forLocation(`${base}/big`)).rejects.toThrow(/maxDownloadBytes/);
    await expect(audio.forLocation(`${base}/slow`)).rejects.toThrow(/within 2000 ms/);
    await expect(audio.forLocation(join(allowed, 'not-audio.wav'))).rejects.toBeInstanceOf(AudioUnavailable);
    // A playlist would make ffmpeg open other files: its demuxer is not on the list.
    await expect(audio.forLocation(join(allowed, 'list.m3u8'))).rejects.toThrow(/ffmpeg/);
  }, 20_000);

  it('refuses loopback, private and link-local hosts unless allowPrivateAddresses, redirects included', async () => {
    const strict = prompts({ allowPrivateAddresses: false });
    const port = new URL(base).port;
    await expect(strict.forLocation(`${base}/a.wav`)).rejects.toThrow(/private address/);
    await expect(strict.forLocation(`http://localhost:${port}/a.wav`)).rejects.toThrow(/private address/);
    await expect(strict.forLocation(`http://[::1]:${port}/a.wav`)).rejects.toThrow(/private address/);
    await expect(strict.forLocation('http://169.254.169.254/latest/meta-data')).rejects.toThrow(
      /private address/,
    );
    const before = requests.length;
    await expect(strict.forLocation(`http://[::ffff:127.0.0.1]:${port}/a.wav`)).rejects.toThrow(
      /private address/,
    );
    // Nothing reached the server.
    expect(requests.length).toBe(before);
  });

  it('follows redirects, up to five', async () => {
    const audio = prompts();
    expect(samplesOf(await audio.forLocation(`${base}/moved`)).length).toBeGreaterThan(0);
    await expect(audio.forLocation(`${base}/loop`)).rejects.toThrow(/too many redirects/);
  });

  it('leaves no temporary files behind a failure', async () => {
    const config = settings();
    const audio = new AudioPrompts(config, pino({ level: 'silent' }));
    await expect(audio.forLocation(`${base}/big`)).rejects.toThrow();
    await expect(audio.forLocation(join(allowed, 'not-audio.wav'))).rejects.toThrow();
    expect(readdirSync(config.cacheDir)).toEqual([]);
  });

  it('speaks text with espeak-ng; an unknown voice fails with its message', async () => {
    const audio = prompts();
    const path = await audio.forSpeech({ text: 'Hello world', voice: 'en-US' });
    expect(samplesOf(path).length).toBeGreaterThan(24_000);
    await expect(audio.forSpeech({ text: 'Hello', voice: 'zz-ZZ' })).rejects.toThrow(
      /espeak-ng.*does not exist/,
    );
  });

  it('cuts audio at maxDurationSeconds', async () => {
    const audio = prompts({ maxDurationSeconds: 1 });
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=duration=3',
      '-y',
      join(allowed, 'long.wav'),
    ]);
    expect(samplesOf(await audio.forLocation(join(allowed, 'long.wav'))).length).toBe(48_000);
  });
});
