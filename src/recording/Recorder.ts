import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { ffmpegRecordArgs, RECORDING_SAMPLE_RATE } from './ffmpegRecordArgs.js';
import type { RecorderOptions, RecordingEndReason, RecordingOutcome } from './recordingTypes.js';

const FRAME_MS = 20;
const FRAME_SAMPLES = (RECORDING_SAMPLE_RATE * FRAME_MS) / 1000;
const FRAME_BYTES = FRAME_SAMPLES * 2;
/** Frames gathered per write to ffmpeg: 100 ms, a tenth of the pipe writes of one per frame. */
const FRAMES_PER_WRITE = 5;
/**
 * How far the frames may trail wall time before the gap is filled with silence. The worker's
 * clock catches up a short stall with back-to-back ticks (up to 5) and skips a longer one; only
 * the skipped time is missing, and filling earlier would double-count the catch-up ticks.
 */
const MAX_LAG_FRAMES = 10;
/**
 * How far the frames may run ahead of wall time: the catch-up ticks that follow a filled gap
 * bring frames whose time the silence already took; beyond this they are dropped, so repeated
 * stalls cannot stretch the file. Two frames absorb where in its 20 ms the recording started.
 */
const MAX_LEAD_FRAMES = 2;
/** ffmpeg this far behind (about 20 s of audio) is stuck, not slow: the recording fails. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** After EOF, ffmpeg writes its trailer in milliseconds; this long means it hangs. */
const STOP_TIMEOUT_MS = 10_000;
const STDERR_KEEP_CHARS = 2_000;

type FfmpegProcess = ChildProcessByStdio<Writable, null, Readable>;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One recording: 48 kHz mono s16le frames piped into an ffmpeg child that encodes them into the
 * file (ogg/webm Opus, fragmented mp4 AAC). Every frame the caller's clock produces is written
 * and time the clock skipped is filled with silence, so the file lasts as long as the wall time
 * it was recorded over.
 *
 * ffmpeg is a child of the process that records (the media worker). When that process dies,
 * ffmpeg reads EOF on stdin, finishes the file and exits on its own.
 */
export class Recorder {
  private readonly exited: Promise<Exit>;
  private readonly maxFrames: number;
  private readonly startedAt: number;
  private readonly now: () => number;
  private batch = Buffer.allocUnsafe(FRAME_BYTES * FRAMES_PER_WRITE);
  private batched = 0;
  private frames = 0;
  private stderr = '';
  private failure: string | null = null;
  private ending: Promise<RecordingOutcome> | null = null;

  /** Starts ffmpeg; rejects when it cannot run at all (missing binary, not executable). */
  static start(options: RecorderOptions): Promise<Recorder> {
    const command = options.ffmpegPath ?? 'ffmpeg';
    return new Promise((resolve, reject) => {
      const child = spawn(command, ffmpegRecordArgs(options.format, options.path), {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      const onError = (error: Error): void =>
        reject(new Error(`could not start ${command}: ${error.message}`));
      child.once('error', onError);
      child.once('spawn', () => {
        child.off('error', onError);
        resolve(new Recorder(child, options));
      });
    });
  }

  private constructor(
    private readonly child: FfmpegProcess,
    private readonly options: RecorderOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
    const max = options.maxDurationMs;
    this.maxFrames = max ? Math.max(1, Math.round(max / FRAME_MS)) : Number.POSITIVE_INFINITY;
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP_CHARS);
    });
    // EPIPE once ffmpeg has gone; its exit status says why.
    child.stdin.on('error', () => undefined);
    child.on('error', (error) => {
      this.failure ??= `ffmpeg failed: ${error.message}`;
    });
    void this.exited.then((exit) => {
      if (this.ending) return;
      this.failure ??= `ffmpeg ${describeExit(exit)} while recording${this.stderrTail()}`;
      void this.finish('error');
    });
  }

  get path(): string {
    return this.options.path;
  }

  /** Audio written so far, silence included. */
  get durationMs(): number {
    return this.frames * FRAME_MS;
  }

  get ended(): boolean {
    return this.ending !== null;
  }

  /**
   * One 20 ms frame (960 samples; copied, so a reused buffer is fine), taken at `nowMs` on the
   * recorder's clock. Ends the recording with max_duration once it is long enough.
   */
  write(frame: Int16Array, nowMs: number): void {
    if (this.ending) return;
    const wallFrames = Math.floor((nowMs - this.startedAt) / FRAME_MS);
    if (this.frames > wallFrames + MAX_LEAD_FRAMES) return;
    this.append(frame);
    const behind = wallFrames - this.frames;
    if (behind > MAX_LAG_FRAMES) this.appendSilence(behind);
    if (this.frames >= this.maxFrames) void this.finish('max_duration');
    else if (this.child.stdin.writableLength > MAX_BUFFERED_BYTES) {
      this.failure ??= 'ffmpeg stopped reading the audio';
      void this.finish('error');
    }
  }

  /**
   * Ends the recording: silence up to now, EOF to ffmpeg, then waits for it to finish the file.
   * Idempotent: later calls get the first call's outcome. Never rejects; a failure is reason 'error'.
   */
  stop(reason: RecordingEndReason = 'stopped'): Promise<RecordingOutcome> {
    return this.finish(reason);
  }

  private finish(reason: RecordingEndReason): Promise<RecordingOutcome> {
    this.ending ??= this.close(reason);
    return this.ending;
  }

  private async close(reason: RecordingEndReason): Promise<RecordingOutcome> {
    if (!this.failure) this.appendSilence(Math.floor((this.now() - this.startedAt) / FRAME_MS) - this.frames);
    this.flush();
    this.child.stdin.end();
    const exit = await this.waitForExit();
    if (!this.failure && exit.code !== 0) {
      this.failure = `ffmpeg ${describeExit(exit)} finishing the file${this.stderrTail()}`;
    }
    const bytes = await stat(this.options.path).then(
      (stats) => stats.size,
      () => 0,
    );
    const outcome: RecordingOutcome = {
      path: this.options.path,
      format: this.options.format,
      durationMs: this.durationMs,
      bytes,
      reason: this.failure ? 'error' : reason,
      message: this.failure,
    };
    this.options.onEnded?.(outcome);
    return outcome;
  }

  private async waitForExit(): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS);
    });
    const exit = await Promise.race([this.exited, late]).finally(() => clearTimeout(timer));
    if (exit) return exit;
    this.failure ??= `ffmpeg did not finish the file within ${STOP_TIMEOUT_MS / 1000} s`;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  private append(frame: Int16Array): void {
    if (this.frames >= this.maxFrames) return;
    // s16le: Int16Array is host order, little-endian on every platform Node ships for.
    Buffer.from(frame.buffer, frame.byteOffset, Math.min(frame.byteLength, FRAME_BYTES)).copy(
      this.batch,
      this.batched * FRAME_BYTES,
    );
    if (frame.byteLength < FRAME_BYTES) {
      this.batch.fill(0, this.batched * FRAME_BYTES + frame.byteLength, (this.batched + 1) * FRAME_BYTES);
    }
    this.advance();
  }

  private appendSilence(count: number): void {
    const frames = Math.min(count, this.maxFrames - this.frames);
    for (let i = 0; i < frames; i++) {
      this.batch.fill(0, this.batched * FRAME_BYTES, (this.batched + 1) * FRAME_BYTES);
      this.advance();
    }
  }

  private advance(): void {
    this.frames++;
    this.batched++;
    if (this.batched === FRAMES_PER_WRITE) this.flush();
  }

  private flush(): void {
    if (this.batched === 0) return;
    const chunk =
      this.batched === FRAMES_PER_WRITE ? this.batch : this.batch.subarray(0, this.batched * FRAME_BYTES);
    // The stream keeps the chunk until ffmpeg reads it: the next frames go into a new buffer.
    this.batch = Buffer.allocUnsafe(FRAME_BYTES * FRAMES_PER_WRITE);
    this.batched = 0;
    const stdin = this.child.stdin;
    if (!stdin.destroyed && !stdin.writableEnded) stdin.write(chunk);
  }

  private stderrTail(): string {
    const lines = this.stderr.trim().split('\n').slice(-2).join(' ');
    return lines ? `: ${lines}` : '';
  }
}

function describeExit(exit: Exit): string {
  return exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`;
}
