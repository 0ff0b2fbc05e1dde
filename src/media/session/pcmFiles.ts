import { readFile, stat } from 'node:fs/promises';

/** Larger files are refused: the main process caps decoded audio far below this (media.playback). */
const MAX_FILE_BYTES = 200 * 1024 * 1024;

/** A file's samples held for one playback; `release` once it ends. */
export interface PcmFileLease {
  samples: Int16Array;
  release(): void;
}

interface Entry {
  samples: Promise<Int16Array>;
  users: number;
}

/**
 * Decoded PCM files (48 kHz mono s16le) read into memory once per worker and shared by every
 * session playing them (hold music for many calls is one copy), dropped when the last playback
 * of a file ends. The files are written once under a content hash and never change.
 */
export class PcmFiles {
  private readonly entries = new Map<string, Entry>();

  async acquire(path: string): Promise<PcmFileLease> {
    let entry = this.entries.get(path);
    if (!entry) {
      entry = { samples: readPcm(path), users: 0 };
      this.entries.set(path, entry);
    }
    entry.users++;
    const held = entry;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users === 0 && this.entries.get(path) === held) this.entries.delete(path);
    };
    try {
      return { samples: await held.samples, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Files held now (for tests). */
  get size(): number {
    return this.entries.size;
  }
}

async function readPcm(path: string): Promise<Int16Array> {
  if ((await stat(path)).size > MAX_FILE_BYTES)
    throw new Error(`${path} is larger than ${MAX_FILE_BYTES} bytes`);
  const bytes = await readFile(path);
  // A copy: a Buffer may sit at an odd offset in a shared pool, and rtc-node ignores byteOffset.
  const samples = new Int16Array(bytes.length >> 1);
  Buffer.from(samples.buffer).set(bytes.subarray(0, samples.length * 2));
  return samples;
}
