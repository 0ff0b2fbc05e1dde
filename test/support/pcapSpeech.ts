import { join } from 'node:path';
import type { CodecName } from '../../src/media/codecs/codecTypes.js';
import { createCodec } from '../../src/media/codecs/createCodec.js';
import { readPcapUdp } from '../unit/media/pcapUdp.js';
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
