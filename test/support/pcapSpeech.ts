import { join } from 'node:path';
import { expect } from 'vitest';
import type { CodecName } from '../../src/media/codecs/codecTypes.js';
import { createCodec } from '../../src/media/codecs/createCodec.js';
import { readPcapUdp } from '../unit/media/pcapUdp.js';
import { compareWithSource, type SourceComparison } from './audioContinuity.js';
import { PCAP_DIR } from './sipp.js';

/**
 * The audio a sipp pcap plays, decoded with the project's codecs (G.711 packets of 20 or 30 ms,
 * in capture order): the source that what a call carried of it is compared with.
 */
export function pcapAudio(file = 'g711a.pcap', codecName: CodecName = 'PCMA'): Int16Array {
  const payloadType = codecName === 'PCMA' ? 8 : 0;
  const codec = createCodec(codecName, { payloadType });
  const chunks: Int16Array[] = [];
  for (const { payload } of readPcapUdp(join(PCAP_DIR, file))) {
    if (payload.length <= 12 || ((payload[1] as number) & 0x7f) !== payloadType) continue;
    const csrcs = ((payload[0] as number) & 0x0f) * 4;
    chunks.push(Int16Array.from(codec.decode(payload.subarray(12 + csrcs))));
  }
  codec.close();
  const out = new Int16Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * sipp's pcap is recorded speech with pauses of its own: what the room heard (48 kHz) is lined up
 * with the pcap itself, and wherever the pcap speaks the room must hear it, with no hole over
 * 40 ms. That it is the pcap's speech at all: its envelope lined up at 0.67–0.89 in our runs,
 * while a steady tone or silence does not line up (below 0.5).
 */
export function expectLikeThePcap(audio: Int16Array, where: string): SourceComparison {
  const heard = compareWithSource(audio, 48_000, pcapAudio(), 8000);
  console.info(`${where}: ${heard.summary}`);
  expect(heard.correlation, `${where}: ${heard.summary}`).toBeGreaterThan(0.5);
  expect(heard.longestDropoutMs, `${where}: ${heard.summary}`).toBeLessThanOrEqual(40);
  return heard;
}
