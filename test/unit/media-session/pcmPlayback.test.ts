import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcmFiles } from '../../../src/media/session/pcmFiles.js';
import { Playback } from '../../../src/media/session/playback.js';

const dir = mkdtempSync(join(tmpdir(), 'pcm-playback-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a decoded file played by the worker', () => {
  it('plays 20 ms frames in order, pads the last one with silence, and loops', () => {
    const pcm = Int16Array.from({ length: 960 + 100 }, (_, i) => i + 1);
    const once = new Playback('pb', { kind: 'file', path: '/x' }, 'sip', false, pcm);
    expect(once.next()?.slice(0, 2)).toEqual(Int16Array.from([1, 2]));
    const last = once.next();
    expect(last?.[99]).toBe(1060);
    expect(last?.[100]).toBe(0);
    expect(once.next()).toBeNull();
    const looped = new Playback('pb', { kind: 'file', path: '/x' }, 'sip', true, pcm);
    looped.next();
    looped.next();
    expect(looped.next()?.[0]).toBe(1);
  });

  it('is read once per worker while playbacks hold it, and dropped after the last', async () => {
    const path = join(dir, 'a.pcm');
    writeFileSync(path, Buffer.from(Int16Array.from([1, -2, 3]).buffer));
    const files = new PcmFiles();
    const [a, b] = await Promise.all([files.acquire(path), files.acquire(path)]);
    expect(a.samples).toBe(b.samples);
    expect(Array.from(a.samples)).toEqual([1, -2, 3]);
    a.release();
    a.release();
    expect(files.size).toBe(1);
    b.release();
    expect(files.size).toBe(0);
    await expect(files.acquire(join(dir, 'missing.pcm'))).rejects.toThrow(/ENOENT/);
    expect(files.size).toBe(0);
  });
});
