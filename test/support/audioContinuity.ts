import { expect } from 'vitest';

/**
 * Continuity of received audio: not only whether a tone arrived, but whether it arrived unbroken.
 * A jitter buffer that drops packets, a FIFO that under- or overruns, a clock that runs slow or
 * fast all leave the tone's frequency and level intact on average and show only as holes and
 * broken frames, which is what this measures.
 *
 * The judged window starts at the first sound and runs `windowMs` from there: where the sound has
 * arrived, at the first 5 ms slice (after the first one louder than `soundDbfs`) within 6 dB of
 * the sound's level, from that slice's first sample above the gap threshold below. A stream that
 * fades in is judged once it is in: a fade-in is not a break, and what follows it counts whole. A
 * recording shorter than the window is judged whole, and `windowMs` in the report says how much
 * was judged (assert it too).
 *
 * Gaps: runs of 1 ms or more in which every sample stays below a tenth (-20 dB) of the sound's
 * peak, the sound's level being the median RMS of its 5 ms slices. A sine is that close to zero
 * only around its zero crossings (3 % of each period: 0.1 ms at 300 Hz), so such a run is a hole;
 * it is measured to the sample, not to a slice grid. In speech, pauses are gaps too: compare with
 * the source's own.
 *
 * Damaged frames (only for a known steady tone, `toneHz`): the tone is demodulated at its own
 * frequency in 10 ms Hann windows every 5 ms, with phase measured against one sample clock for
 * the whole window, so an unbroken sine has the same amplitude and phase in every window (a small
 * frequency offset becomes a constant phase step, taken out as the median step). A window is
 * broken when
 * - its amplitude falls 6 dB or more below the tone's median amplitude (a hole, a faded
 *   concealment, a burst of something else: noise barely moves the amplitude at the tone's
 *   frequency), or
 * - its phase differs by more than 30° from the window 10 ms before it, beyond the steady step
 *   (samples dropped or repeated: a lost packet played over, a FIFO overrun, a clock slip).
 * Broken windows within 20 ms of each other are one event, and an event covers as many 20 ms
 * frames as its length spans (at least one): that count is `damagedFrames`.
 *
 * What this cannot see: samples dropped or repeated in whole periods of the tone leave it
 * unbroken. A 20 ms frame of a tone at a multiple of 50 Hz (1 kHz, 500 Hz) holds whole periods, so
 * dropping or repeating it is invisible; tones whose frames hold a half period more (a frequency
 * of 25 mod 50 Hz: 1025 Hz, 525 Hz) turn a dropped or repeated 20 ms frame into a 180° break and a
 * dropped 10 ms one into 90°. Good packet loss concealment of a steady tone (repeating its last
 * period) is also close to invisible, by design: what it misses, a listener barely hears.
 */

export interface ContinuityOptions {
  sampleRate: number;
  /** The steady tone that was sent: with it, broken frames are found as well as gaps. */
  toneHz?: number;
  /** Judged from the first sound on (default 3000 ms). */
  windowMs?: number;
  /** A slice louder than this is sound: where the window starts (default -40 dBFS). */
  soundDbfs?: number;
}

export interface ContinuityGap {
  /** Start, from the first sound. */
  atMs: number;
  lengthMs: number;
}

export interface ContinuityDamage {
  /** Where the damage starts (to within a few ms), from the first sound. */
  atMs: number;
  /** 20 ms frames it covers. */
  frames: number;
  /** What was seen: the deepest level drop and the largest phase break in the event. */
  levelDropDb: number;
  phaseBreakDeg: number;
}

export interface ContinuityReport {
  /** Where the judged window starts in the recording (-1: no sound at all). */
  firstSoundMs: number;
  /** How much was judged (less than asked when the recording ends sooner). */
  windowMs: number;
  /** Median level of the sounding 5 ms slices. */
  levelDbfs: number;
  longestGapMs: number;
  gaps: ContinuityGap[];
  /** 20 ms frames broken (0 without `toneHz`); gaps count here too. */
  damagedFrames: number;
  /** Damaged frames per second of the window. */
  damagedPerSecond: number;
  damage: ContinuityDamage[];
  /** One line for an assertion message: the figures and where the worst of it was. */
  summary: string;
}

const SLICE_MS = 5;
const MIN_GAP_MS = 1;
const HOP_MS = 5;
const ANALYSIS_MS = 10;
const FRAME_MS = 20;
const GAP_BELOW_DB = 20;
const LEVEL_DROP_DB = 6;
const PHASE_BREAK_DEG = 30;

function rms(samples: ArrayLike<number>, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) {
    const v = (samples[i] ?? 0) / 32768;
    sum += v * v;
  }
  return Math.sqrt(sum / Math.max(1, to - from));
}

const toDb = (ratio: number): number => 20 * Math.log10(ratio);

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** An angle folded into (-π, π]. */
function wrap(angle: number): number {
  let a = angle % (2 * Math.PI);
  if (a > Math.PI) a -= 2 * Math.PI;
  if (a <= -Math.PI) a += 2 * Math.PI;
  return a;
}

/** Measures gaps and (for a known tone) broken 20 ms frames; see the file comment for how. */
export function measureContinuity(samples: Int16Array, options: ContinuityOptions): ContinuityReport {
  const rate = options.sampleRate;
  const soundRatio = 10 ** ((options.soundDbfs ?? -40) / 20);
  const slice = Math.round((rate * SLICE_MS) / 1000);
  const toMs = (samplesCount: number) => (1000 * samplesCount) / rate;

  let first = -1;
  for (let at = 0; at + slice <= samples.length; at += slice) {
    if (rms(samples, at, at + slice) > soundRatio) {
      first = at;
      break;
    }
  }
  if (first < 0) {
    return {
      firstSoundMs: -1,
      windowMs: 0,
      levelDbfs: Number.NEGATIVE_INFINITY,
      longestGapMs: 0,
      gaps: [],
      damagedFrames: 0,
      damagedPerSecond: 0,
      damage: [],
      summary: 'no sound at all',
    };
  }
  const wanted = Math.round((rate * (options.windowMs ?? 3000)) / 1000);
  // The sound's level: the median of its 5 ms slices, so one loud or quiet slice does not move it.
  const levels: number[] = [];
  for (let at = first; at + slice <= Math.min(samples.length, first + wanted); at += slice) {
    levels.push(rms(samples, at, at + slice));
  }
  const level = median(levels.filter((l) => l > soundRatio));
  const quiet = Math.SQRT2 * level * 10 ** (-GAP_BELOW_DB / 20) * 32768;
  // The sound has arrived at the first slice within 6 dB of its level (a stream that fades in is
  // judged once it is in), and starts at that slice's first sample above the gap threshold.
  const arrived = level * 10 ** (-LEVEL_DROP_DB / 20);
  const firstLoud = first;
  for (let i = 0; i < levels.length; i++) {
    if ((levels[i] as number) >= arrived) {
      first = firstLoud + i * slice;
      break;
    }
  }
  while (first < samples.length && Math.abs(samples[first] as number) < quiet) first++;
  const end = Math.min(samples.length, first + wanted);
  const window = samples.subarray(first, end);

  // Gaps: runs of samples below a tenth of the sound's peak. A sine stays there only near its zero
  // crossings (3 % of a period), so a run of a millisecond or more is a hole, not a waveform.
  const minimum = Math.max(1, Math.round((rate * MIN_GAP_MS) / 1000));
  const gaps: ContinuityGap[] = [];
  let run = 0;
  for (let i = 0; i <= window.length; i++) {
    if (i < window.length && Math.abs(window[i] as number) < quiet) {
      run++;
      continue;
    }
    if (run >= minimum) gaps.push({ atMs: round1(toMs(i - run)), lengthMs: round1(toMs(run)) });
    run = 0;
  }
  const longestGapMs = gaps.reduce((longest, gap) => Math.max(longest, gap.lengthMs), 0);

  const damage = options.toneHz === undefined ? [] : brokenFrames(window, rate, options.toneHz);
  const damagedFrames = damage.reduce((sum, event) => sum + event.frames, 0);
  const windowMs = Math.round(toMs(window.length));
  const damagedPerSecond = windowMs > 0 ? (1000 * damagedFrames) / windowMs : 0;
  const worstGap = gaps.find((gap) => gap.lengthMs === longestGapMs);
  const shown = damage
    .slice(0, 5)
    .map(
      (event) =>
        `${event.atMs} ms (${event.frames} frame${event.frames === 1 ? '' : 's'}, ` +
        `level ${event.levelDropDb.toFixed(1)} dB, phase ${Math.round(event.phaseBreakDeg)}°)`,
    );
  const summary =
    `${windowMs} ms judged from the first sound at ${Math.round(toMs(first))} ms, ` +
    `level ${toDb(level).toFixed(1)} dBFS: ` +
    `longest gap ${longestGapMs} ms${worstGap ? ` at ${worstGap.atMs} ms` : ''} (${gaps.length} gaps), ` +
    `${damagedFrames} damaged 20 ms frames (${damagedPerSecond.toFixed(2)}/s)` +
    (shown.length > 0 ? `: ${shown.join(', ')}${damage.length > shown.length ? ', …' : ''}` : '');
  return {
    firstSoundMs: round1(toMs(first)),
    windowMs,
    levelDbfs: toDb(level),
    longestGapMs,
    gaps,
    damagedFrames,
    damagedPerSecond,
    damage,
    summary,
  };
}

/** Broken windows of a steady tone, gathered into events of damaged 20 ms frames. */
function brokenFrames(window: Int16Array, rate: number, toneHz: number): ContinuityDamage[] {
  const hop = Math.round((rate * HOP_MS) / 1000);
  const length = Math.round((rate * ANALYSIS_MS) / 1000);
  const lag = Math.round(ANALYSIS_MS / HOP_MS);
  const hann = Float64Array.from(
    { length },
    (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (n + 0.5)) / length),
  );
  const gain = hann.reduce((sum, w) => sum + w, 0);
  const omega = (2 * Math.PI * toneHz) / rate;
  const amplitude: number[] = [];
  const phase: number[] = [];
  for (let at = 0; at + length <= window.length; at += hop) {
    let re = 0;
    let im = 0;
    for (let n = 0; n < length; n++) {
      const v = ((window[at + n] as number) / 32768) * (hann[n] as number);
      const angle = omega * (at + n);
      re += v * Math.cos(angle);
      im -= v * Math.sin(angle);
    }
    amplitude.push((2 * Math.hypot(re, im)) / gain);
    phase.push(Math.atan2(im, re));
  }
  if (amplitude.length === 0) return [];
  const reference = median(amplitude);
  const floor = reference * 10 ** (-LEVEL_DROP_DB / 20);
  const steps: number[] = [];
  for (let i = lag; i < phase.length; i++)
    steps.push(wrap((phase[i] as number) - (phase[i - lag] as number)));
  const steady = median(steps);

  // Evidence: [start, end) in samples of the window, with what was seen there.
  const evidence: { from: number; to: number; dropDb: number; breakDeg: number }[] = [];
  for (let i = 0; i < amplitude.length; i++) {
    const a = amplitude[i] as number;
    if (a < floor) {
      evidence.push({
        from: i * hop,
        to: i * hop + length,
        dropDb: toDb(reference / Math.max(a, 1e-9)),
        breakDeg: 0,
      });
    }
    if (i < lag || a < floor || (amplitude[i - lag] as number) < floor) continue;
    const breakDeg =
      (Math.abs(wrap((phase[i] as number) - (phase[i - lag] as number) - steady)) * 180) / Math.PI;
    // The two windows meet at i * hop: the break lies within a window's length of there.
    if (breakDeg > PHASE_BREAK_DEG)
      evidence.push({ from: i * hop - hop, to: i * hop + hop, dropDb: 0, breakDeg });
  }
  evidence.sort((x, y) => x.from - y.from);
  const frame = Math.round((rate * FRAME_MS) / 1000);
  const events: { from: number; to: number; dropDb: number; breakDeg: number }[] = [];
  for (const seen of evidence) {
    const last = events[events.length - 1];
    if (last && seen.from <= last.to + frame) {
      last.to = Math.max(last.to, seen.to);
      last.dropDb = Math.max(last.dropDb, seen.dropDb);
      last.breakDeg = Math.max(last.breakDeg, seen.breakDeg);
    } else {
      events.push({ ...seen });
    }
  }
  return events.map((event) => {
    // Evidence reaches half an analysis window past the damage at each end.
    const span = Math.max(0, event.to - event.from - length);
    return {
      atMs: round1((1000 * Math.max(0, event.from + length / 2)) / rate),
      frames: Math.max(1, Math.ceil(span / frame)),
      levelDropDb: event.dropDb,
      phaseBreakDeg: event.breakDeg,
    };
  });
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

export interface ContinuityBounds {
  /** The window judged from the first sound; a shorter recording fails. */
  windowMs: number;
  maxGapMs: number;
  maxDamagedPerSecond: number;
}

/**
 * The bounds for a call on a machine with nothing else to do: 3 s unbroken by any gap over 40 ms
 * and with at most one damaged 20 ms frame a second (a jitter buffer that drops a frame to shrink
 * its delay, a single late packet concealed).
 */
export const QUIET_MACHINE: ContinuityBounds = { windowMs: 3000, maxGapMs: 40, maxDamagedPerSecond: 1 };

/** Asserts `bounds` on a recording of a steady tone (or on a sound without `toneHz`: gaps only). */
export function expectContinuous(
  samples: Int16Array,
  options: ContinuityOptions & { where: string },
  bounds: ContinuityBounds = QUIET_MACHINE,
): ContinuityReport {
  const report = measureContinuity(samples, { windowMs: bounds.windowMs, ...options });
  const message = `${options.where}: ${report.summary}`;
  expect(report.windowMs, message).toBe(bounds.windowMs);
  expect(report.longestGapMs, message).toBeLessThanOrEqual(bounds.maxGapMs);
  expect(report.damagedFrames, message).toBeLessThanOrEqual(
    Math.floor((bounds.maxDamagedPerSecond * bounds.windowMs) / 1000),
  );
  return report;
}

export interface SourceComparison {
  /** Where the received audio lines up in the source. */
  offsetMs: number;
  /** Correlation of the two level envelopes at that offset (1: the same shape). */
  correlation: number;
  /** How much of the received audio was compared (it may run past the source's end). */
  comparedMs: number;
  /** Received level minus source level where the source speaks (the chain's gain). */
  gainDb: number;
  /** The longest run in which the source speaks and the received audio is near-silent. */
  longestDropoutMs: number;
  dropouts: ContinuityGap[];
  summary: string;
}

/**
 * Recorded speech has pauses of its own, so a gap in it says nothing until it is compared with the
 * source: the received audio's 5 ms level envelope is lined up with the source's (the offset with
 * the highest correlation of the two, levels in dB floored at -60 dBFS), and a dropout is a run
 * of slices in which the source speaks (above `speechDbfs`, in the slice and both its neighbours, as
 * the alignment is good to a slice) while the received slice is more than
 * 20 dB below the source's level there (after the chain's own gain, the median difference where
 * the source speaks). Pauses in the source are not dropouts; a hole where it speaks is.
 */
export function compareWithSource(
  received: Int16Array,
  receivedRate: number,
  source: Int16Array,
  sourceRate: number,
  options: { speechDbfs?: number } = {},
): SourceComparison {
  const envelope = (samples: Int16Array, rate: number) => {
    const slice = Math.round((rate * SLICE_MS) / 1000);
    const out: number[] = [];
    for (let at = 0; at + slice <= samples.length; at += slice)
      out.push(Math.max(-60, toDb(rms(samples, at, at + slice))));
    return out;
  };
  const got = envelope(received, receivedRate);
  const sent = envelope(source, sourceRate);
  const speech = options.speechDbfs ?? -40;
  // Past its end the source is silent (the far end stopped sending): a received stretch that runs
  // on past it is compared with silence there.
  const sourceAt = (i: number) => (i < sent.length ? (sent[i] as number) : -60);
  const n = got.length;
  let best = { offset: 0, correlation: Number.NEGATIVE_INFINITY };
  for (let offset = 0; offset < sent.length; offset++) {
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < n; i++) {
      sa += got[i] as number;
      sb += sourceAt(offset + i);
    }
    const ma = sa / n;
    const mb = sb / n;
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = 0; i < n; i++) {
      const a = (got[i] as number) - ma;
      const b = sourceAt(offset + i) - mb;
      ab += a * b;
      aa += a * a;
      bb += b * b;
    }
    const correlation = aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
    if (correlation > best.correlation) best = { offset, correlation };
  }
  const differences: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = sourceAt(best.offset + i);
    if (s > speech) differences.push((got[i] as number) - s);
  }
  const gainDb = median(differences);
  const dropouts: ContinuityGap[] = [];
  let run = 0;
  for (let i = 0; i <= n; i++) {
    // The source speaks here and in both neighbouring slices: the alignment is good to a slice,
    // so the edges of a word are not dropouts.
    const at = best.offset + i;
    const s = Math.min(sourceAt(at), at > 0 ? sourceAt(at - 1) : -60, sourceAt(at + 1));
    if (i < n && s > speech && (got[i] as number) < s + gainDb - GAP_BELOW_DB) {
      run++;
      continue;
    }
    if (run > 0) dropouts.push({ atMs: (i - run) * SLICE_MS, lengthMs: run * SLICE_MS });
    run = 0;
  }
  const longestDropoutMs = dropouts.reduce((longest, gap) => Math.max(longest, gap.lengthMs), 0);
  const summary =
    `${n * SLICE_MS} ms compared with the source from ${best.offset * SLICE_MS} ms in it ` +
    `(envelope correlation ${best.correlation.toFixed(2)}, gain ${gainDb.toFixed(1)} dB): ` +
    `longest dropout where the source speaks ${longestDropoutMs} ms (${dropouts.length} dropouts)`;
  return {
    offsetMs: best.offset * SLICE_MS,
    correlation: best.correlation,
    comparedMs: n * SLICE_MS,
    gainDb,
    longestDropoutMs,
    dropouts,
    summary,
  };
}
