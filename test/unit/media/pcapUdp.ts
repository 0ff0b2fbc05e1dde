import { readFileSync } from 'node:fs';

export interface PcapUdpPacket {
  timeMs: number;
  payload: Uint8Array;
}

/**
 * The UDP payloads of a classic libpcap file (Ethernet or Linux cooked capture, IPv4), enough to
 * replay sipp's bundled RTP captures into our receivers without a network.
 */
export function readPcapUdp(path: string): PcapUdpPacket[] {
  const data = readFileSync(path);
  const magic = data.readUInt32LE(0);
  const littleEndian = magic === 0xa1b2c3d4;
  if (!littleEndian && magic !== 0xd4c3b2a1) throw new Error(`${path}: not a pcap file`);
  const u32 = (offset: number) => (littleEndian ? data.readUInt32LE(offset) : data.readUInt32BE(offset));
  const linkType = u32(20);
  const linkHeader = linkType === 1 ? 14 : linkType === 113 ? 16 : 0;
  const packets: PcapUdpPacket[] = [];
  let offset = 24;
  while (offset + 16 <= data.length) {
    const seconds = u32(offset);
    const micros = u32(offset + 4);
    const captured = u32(offset + 8);
    const frame = data.subarray(offset + 16, offset + 16 + captured);
    offset += 16 + captured;
    const ip = frame.subarray(linkHeader);
    if (ip.length < 20 || ip[0] === undefined || ip[0] >> 4 !== 4 || ip[9] !== 17) continue;
    const udp = ip.subarray((ip[0] & 0x0f) * 4);
    packets.push({ timeMs: seconds * 1000 + micros / 1000, payload: new Uint8Array(udp.subarray(8)) });
  }
  return packets;
}
