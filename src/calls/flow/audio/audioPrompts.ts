import { realpath, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../../config/schema.js';
import { AudioUnavailable } from '../../callErrors.js';
import { AudioCache } from './audioCache.js';
import { decodeToPcm } from './decode.js';
import { download } from './download.js';
import { type SpeechRequest, synthesize } from './speech.js';

/** media.playback, with the cache folder resolved. */
export interface PlaybackSettings {
  cacheDir: string;
  cacheMaxBytes: number;
  fileDirs: string[];
  maxDownloadBytes: number;
  downloadTimeoutMs: number;
  maxDurationSeconds: number;
  /** Whether URLs on loopback, private or link-local addresses may be fetched (default false). */
  allowPrivateAddresses?: boolean;
}

/** media.playback from config; the cache defaults to `playback-cache` beside the database. */
export function playbackSettings(config: Pick<GatewayConfig, 'media' | 'store'>): PlaybackSettings {
  const { cacheDir, ...limits } = config.media.playback;
  return { ...limits, cacheDir: cacheDir ?? join(dirname(config.store.path), 'playback-cache') };
}

/**
 * The audio of playback and say verbs, as files the media worker plays (48 kHz mono s16le):
 * http(s) URLs are downloaded within limits, local files must lie under media.playback.fileDirs,
 * text is spoken by espeak-ng; everything is decoded by ffmpeg and cached on disk. Two calls asking
 * for the same audio at once share one download and decode.
 */
export class AudioPrompts {
  private readonly cache: AudioCache;
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly fileDirs: string[];

  constructor(
    private readonly settings: PlaybackSettings,
    logger: Logger,
  ) {
    this.cache = new AudioCache(resolve(settings.cacheDir), settings.cacheMaxBytes, logger);
    this.fileDirs = settings.fileDirs.map((dir) => resolve(dir));
  }

  /**
   * Why a playback location may not be used, judged without touching the disk (for a 400 when the
   * flow arrives); undefined when it may. http(s) URLs always may.
   */
  refusal(location: string): string | undefined {
    const local = localPath(location);
    if (local === undefined) return undefined;
    if (local === null) return 'a file: URL must name a local file';
    if (!under(resolve(local), this.fileDirs)) return 'not under a folder in media.playback.fileDirs';
    return undefined;
  }

  /** The decoded audio of a playback location (http(s) URL, absolute path or file: URL). */
  async forLocation(location: string): Promise<string> {
    const local = localPath(location);
    if (local === undefined) {
      return this.once(`url:${location}`, async (temp) => {
        const fetched = this.cache.scratch(temp, 'download');
        try {
          await download(location, fetched, {
            maxBytes: this.settings.maxDownloadBytes,
            timeoutMs: this.settings.downloadTimeoutMs,
            allowPrivateAddresses: this.settings.allowPrivateAddresses ?? false,
          });
          await decodeToPcm({ file: fetched }, temp, this.settings.maxDurationSeconds);
        } finally {
          await rm(fetched, { force: true });
        }
      });
    }
    const refused = this.refusal(location);
    if (refused || local === null) throw new AudioUnavailable(`${location}: ${refused}`);
    // The real path, so a symbolic link cannot lead out of the allowed folders.
    const real = await realpath(local).catch(() => {
      throw new AudioUnavailable(`${location}: no such file`);
    });
    const dirs = await Promise.all(this.fileDirs.map((dir) => realpath(dir).catch(() => dir)));
    if (!under(real, dirs))
      throw new AudioUnavailable(`${location}: not under a folder in media.playback.fileDirs`);
    const info = await stat(real);
    if (!info.isFile()) throw new AudioUnavailable(`${location}: not a file`);
    return this.once(`file:${real}\n${info.size}\n${info.mtimeMs}`, (temp) =>
      decodeToPcm({ file: real }, temp, this.settings.maxDurationSeconds),
    );
  }

  /** The decoded speech of `text` in `voice`. */
  forSpeech(request: SpeechRequest): Promise<string> {
    return this.once(`say:${request.voice}\n${request.text}`, (temp) =>
      synthesize(request, temp, this.settings.maxDurationSeconds),
    );
  }

  /** The cached file for `key`, produced once (concurrent askers share the work). */
  private once(key: string, produce: (temp: string) => Promise<void>): Promise<string> {
    const path = this.cache.pathFor(key);
    let pending = this.inflight.get(path);
    if (!pending) {
      pending = (async () => {
        if (await this.cache.has(path)) return path;
        await this.cache.fill(path, async (temp) => {
          await produce(temp);
          if ((await stat(temp)).size === 0) throw new AudioUnavailable('the audio decodes to nothing');
        });
        return path;
      })().finally(() => this.inflight.delete(path));
      this.inflight.set(path, pending);
    }
    return pending;
  }
}

/** The local path a location names; undefined for http(s); null for a file: URL of another host. */
function localPath(location: string): string | null | undefined {
  if (location.startsWith('/')) return location;
  if (!location.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(location);
  } catch {
    return null;
  }
}

function under(path: string, dirs: readonly string[]): boolean {
  return dirs.some((dir) => path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`));
}
