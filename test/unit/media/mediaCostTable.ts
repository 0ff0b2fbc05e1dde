import { pathToFileURL } from 'node:url';
import { type Codec, createCodec, Resampler } from '../../../src/media/codecs/index.js';
import { AdaptiveJitterBuffer, JitterPlayout } from '../../../src/media/jitter/index.js';
import { parseRtpPacket, RtpSender } from '../../../src/media/rtp/index.js';
import { ToneGenerator } from '../../support/tone.js';

/**
 * CPU cost per 20 ms frame of each media step. Timing depends on the machine, so this is a
 * measurement, not a test. Run it on the tsc output, as production runs (vitest's transform makes
 * some loops slower):
 *   npx tsc --outDir dist/media-cost --rootDir . --module nodenext --moduleResolution nodenext \
 *     --target es2023 --skipLibCheck --types node test/unit/media/mediaCostTable.ts
 *   node dist/media-cost/test/unit/media/mediaCostTable.js
 * The first row times a fixed float loop (~30 µs on an idle core): divide by it to compare runs.
 * or inside vitest with MEDIA_COST=1 npx vitest run test/unit/media/mediaCost
 */
const FRAMES = 3000;

/** The best of five batches: other processes on the machine only ever make a batch slower. */
function microsPerFrame(frames: number, work: (i: number) => void): number {
  for (let i = 0; i < 200; i++) work(i); // warm up the JIT and codec state
  let best = Number.POSITIVE_INFINITY;
  const batch = Math.ceil(frames / 5);
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) work(round * batch + i);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1000 / batch);
  }
  return best;
}

function frameOf(codec: Codec): Int16Array[] {
  // 50 distinct frames of a tone with some noise, so codecs do real work.
  const tone = new ToneGenerator({ frequencyHz: 440, sampleRate: codec.sampleRate, amplitude: 0.3 });
  let seed = 3;
  return Array.from({ length: 50 }, () => {
    const mono = tone.next(codec.samplesPerFrame);
    const pcm = new Int16Array(mono.length * codec.channels);
    for (let i = 0; i < pcm.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      pcm[i] = (mono[Math.floor(i / codec.channels)] as number) + ((seed % 601) - 300);
    }
    return pcm;
  });
}

export function measureMediaCost(): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  // A yardstick: 30,720 float multiply-adds (the work of the 8k→48k resampler). On an idle core
  // this takes ~30 µs; comparing to it tells the machine's load apart from the code's cost.
  const a = new Float32Array(3840).fill(0.5);
  const b = new Float32Array(3840).fill(0.25);
  let sink = 0;
  const reference = microsPerFrame(FRAMES, () => {
    let sum = 0;
    for (let r = 0; r < 8; r++) for (let i = 0; i < 3840; i++) sum += (a[i] as number) * (b[i] as number);
    sink += sum;
  });
  rows.push({ step: 'reference: 30k float MACs', 'encode µs': reference.toFixed(1) });
  const codecs: [string, () => Codec][] = [
    ['PCMU', () => createCodec('PCMU')],
    ['PCMA', () => createCodec('PCMA')],
    ['G722', () => createCodec('G722')],
    ['opus mono (complexity 5)', () => createCodec('opus', { channels: 1 })],
    ['opus stereo (complexity 5)', () => createCodec('opus', { channels: 2 })],
    ['opus mono (complexity 10)', () => createCodec('opus', { channels: 1, complexity: 10 })],
  ];
  for (const [name, make] of codecs) {
    const codec = make();
    const frames = frameOf(codec);
    const payloads = frames.map((f) => Uint8Array.from(codec.encode(f)));
    const encode = microsPerFrame(FRAMES, (i) => codec.encode(frames[i % 50] as Int16Array));
    const decode = microsPerFrame(FRAMES, (i) => codec.decode(payloads[i % 50] as Uint8Array));
    const conceal = microsPerFrame(500, () => codec.conceal());
    rows.push({
      step: name,
      'encode µs': encode.toFixed(1),
      'decode µs': decode.toFixed(1),
      'conceal µs': conceal.toFixed(1),
      'bytes/frame': String(payloads[10]?.length),
    });
  }
  for (const [from, to] of [
    [8000, 48000],
    [48000, 8000],
    [16000, 48000],
    [48000, 16000],
  ] as const) {
    const resampler = new Resampler({ inputRate: from, outputRate: to });
    const input = new ToneGenerator({ frequencyHz: 440, sampleRate: from, amplitude: 0.3 }).next(from / 50);
    rows.push({
      step: `resample ${from}→${to}`,
      'encode µs': microsPerFrame(FRAMES, () => resampler.process(input)).toFixed(1),
    });
  }
  {
    const codec = createCodec('PCMU');
    const buffer = new AdaptiveJitterBuffer({ clockRate: 8000, ticksPerFrame: 160 });
    const playout = new JitterPlayout(buffer, codec);
    const sender = new RtpSender({
      ssrc: 1,
      payloadType: 0,
      clockRate: 8000,
      ticksPerFrame: 160,
      initialSequenceNumber: 0,
      initialTimestamp: 0,
    });
    const payload = codec.encode(new Int16Array(160));
    const cost = microsPerFrame(FRAMES * 3, (i) => {
      const packet = parseRtpPacket(sender.nextMediaPacket(payload));
      buffer.insert(packet, i * 20);
      playout.next();
    });
    rows.push({ step: 'RTP write+parse, jitter insert, PCMU playout', 'encode µs': cost.toFixed(1) });
  }
  if (sink === 0) rows.push({ step: 'unreachable' });
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.table(measureMediaCost());
