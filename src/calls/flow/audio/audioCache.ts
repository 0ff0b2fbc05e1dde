import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** Bumped when the decoded format changes, so old entries are never played as the new one. */
const FORMAT_VERSION = 'pcm-s16le-48000-mono-v1';
/** Entries used this recently are never trimmed: a worker may be about to read them. */
const IN_USE_MS = 5 * 60_000;
/** Leftovers of a decode cut short by a crash. */
const STALE_TEMP_MS = 60 * 60_000;

/**
 * Decoded audio on disk, one file per key (a URL, a file and its version, a text and voice), named
 * by the key's hash. Files appear whole (written aside, then renamed) and never change; a hit
 * refreshes the file's time, and the cache is trimmed oldest-first to `maxBytes` after each write.
 */
export class AudioCache {
  private ready: Promise<unknown> | undefined;

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  pathFor(key: string): string {
    const hash = createHash('sha256').update(`${FORMAT_VERSION}\n${key}`).digest('hex');
    return join(this.dir, `${hash}.pcm`);
  }

  /** Whether `path` is cached (and, if so, marks it used now). */
  async has(path: string): Promise<boolean> {
    const now = new Date();
    return utimes(path, now, now).then(
      () => true,
      () => false,
    );
  }

  /** Runs `produce` into a temporary file beside `path`, then moves it into place. */
  async fill(path: string, produce: (temp: string) => Promise<void>): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await produce(temp);
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
    void this.trim(path).catch((error: unknown) =>
      this.logger.warn({ err: error, dir: this.dir }, 'trimming the playback cache failed'),
    );
  }

  /** A scratch file name in the cache folder (a download before its decode), removed by the caller. */
  scratch(path: string, suffix: string): string {
    return `${path}.${randomBytes(4).toString('hex')}.${suffix}.tmp`;
  }

  private async trim(keep: string): Promise<void> {
    const now = Date.now();
    const entries: { path: string; size: number; usedAt: number }[] = [];
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      if (name.endsWith('.tmp')) {
        if (now - info.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
        continue;
      }
      if (name.endsWith('.pcm')) entries.push({ path, size: info.size, usedAt: info.mtimeMs });
    }
    let total = entries.reduce((sum, entry) => sum + entry.size, 0);
    entries.sort((a, b) => a.usedAt - b.usedAt);
    for (const entry of entries) {
      if (total <= this.maxBytes) break;
      if (entry.path === keep || now - entry.usedAt < IN_USE_MS) continue;
      await rm(entry.path, { force: true });
      total -= entry.size;
    }
  }
}
