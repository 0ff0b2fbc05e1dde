import { RtcpParseError } from './rtcpErrors.js';
import {
  type Goodbye,
  type ReceiverReport,
  type ReportBlock,
  RTCP_BYE,
  RTCP_RR,
  RTCP_SDES,
  RTCP_SR,
  type RtcpPacket,
  type SdesChunk,
  type SenderReport,
  type SourceDescription,
} from './rtcpTypes.js';

const HEADER = 4;
const REPORT_BLOCK = 24;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * Parses a compound RTCP packet (RFC 3550 §6.1) into its packets. Allocation is fine here: RTCP
 * comes every few seconds per call, not per media frame. Throws RtcpParseError when malformed.
 */
export function parseRtcpCompound(data: Uint8Array): RtcpPacket[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const packets: RtcpPacket[] = [];
  let offset = 0;
  if (data.length < HEADER) throw new RtcpParseError(`RTCP packet too short: ${data.length} bytes`);
  while (offset < data.length) {
    if (offset + HEADER > data.length) throw new RtcpParseError('RTCP header runs past the datagram');
    const first = data[offset] as number;
    if (first >> 6 !== 2) throw new RtcpParseError(`RTCP version ${first >> 6}, expected 2`);
    const count = first & 0x1f;
    const packetType = data[offset + 1] as number;
    const length = (view.getUint16(offset + 2) + 1) * 4;
    const end = offset + length;
    if (end > data.length) throw new RtcpParseError(`RTCP packet of ${length} bytes runs past the datagram`);
    let bodyEnd = end;
    if (first & 0x20) {
      // Padding is only allowed on the last packet of a compound (RFC 3550 §6.4.1).
      const padding = data[end - 1] as number;
      if (end !== data.length || padding === 0 || padding > length - HEADER) {
        throw new RtcpParseError('RTCP padding is invalid');
      }
      bodyEnd -= padding;
    }
    const body = data.subarray(offset + HEADER, bodyEnd);
    const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
    packets.push(parsePacket(packetType, count, body, bodyView));
    offset = end;
  }
  return packets;
}

function parsePacket(packetType: number, count: number, body: Uint8Array, view: DataView): RtcpPacket {
  switch (packetType) {
    case RTCP_SR: {
      if (body.length < 24 + count * REPORT_BLOCK)
        throw new RtcpParseError('RTCP SR shorter than its blocks');
      return {
        type: 'sr',
        ssrc: view.getUint32(0),
        ntpSeconds: view.getUint32(4),
        ntpFraction: view.getUint32(8),
        rtpTimestamp: view.getUint32(12),
        packetCount: view.getUint32(16),
        octetCount: view.getUint32(20),
        reports: parseReportBlocks(view, 24, count),
      };
    }
    case RTCP_RR: {
      if (body.length < 4 + count * REPORT_BLOCK) throw new RtcpParseError('RTCP RR shorter than its blocks');
      return { type: 'rr', ssrc: view.getUint32(0), reports: parseReportBlocks(view, 4, count) };
    }
    case RTCP_SDES:
      return parseSdes(body, view, count);
    case RTCP_BYE: {
      if (body.length < count * 4) throw new RtcpParseError('RTCP BYE shorter than its SSRC list');
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(view.getUint32(i * 4));
      const bye: Goodbye = { type: 'bye', ssrcs };
      const reasonAt = count * 4;
      if (body.length > reasonAt) {
        const reasonLength = body[reasonAt] as number;
        if (reasonAt + 1 + reasonLength > body.length)
          throw new RtcpParseError('RTCP BYE reason runs past the packet');
        bye.reason = textDecoder.decode(body.subarray(reasonAt + 1, reasonAt + 1 + reasonLength));
      }
      return bye;
    }
    default:
      return { type: 'other', packetType, count, body };
  }
}

function parseReportBlocks(view: DataView, start: number, count: number): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + i * REPORT_BLOCK;
    const lostWord = view.getUint32(at + 4);
    // Cumulative lost is a signed 24-bit number.
    const cumulative = lostWord & 0xffffff;
    blocks.push({
      ssrc: view.getUint32(at),
      fractionLost: lostWord >>> 24,
      cumulativeLost: cumulative & 0x800000 ? cumulative - 0x1000000 : cumulative,
      extendedHighestSequence: view.getUint32(at + 8),
      jitter: view.getUint32(at + 12),
      lastSenderReport: view.getUint32(at + 16),
      delaySinceLastSenderReport: view.getUint32(at + 20),
    });
  }
  return blocks;
}

function parseSdes(body: Uint8Array, view: DataView, count: number): SourceDescription {
  const chunks: SdesChunk[] = [];
  let offset = 0;
  for (let c = 0; c < count; c++) {
    if (offset + 4 > body.length) throw new RtcpParseError('RTCP SDES chunk runs past the packet');
    const chunk: SdesChunk = { ssrc: view.getUint32(offset), items: [] };
    offset += 4;
    for (;;) {
      if (offset >= body.length) throw new RtcpParseError('RTCP SDES chunk is not terminated');
      const itemType = body[offset] as number;
      if (itemType === 0) {
        // The null item, then padding up to the next 32-bit boundary.
        offset = (offset + 4) & ~3;
        break;
      }
      if (offset + 2 > body.length) throw new RtcpParseError('RTCP SDES item runs past the packet');
      const length = body[offset + 1] as number;
      if (offset + 2 + length > body.length) throw new RtcpParseError('RTCP SDES item runs past the packet');
      chunk.items.push({
        type: itemType,
        text: textDecoder.decode(body.subarray(offset + 2, offset + 2 + length)),
      });
      offset += 2 + length;
    }
    chunks.push(chunk);
  }
  return { type: 'sdes', chunks };
}

/** Builds a compound packet from its parts (order as given: SR or RR first, per RFC 3550 §6.1). */
export function buildRtcpCompound(packets: readonly RtcpPacket[]): Uint8Array {
  const parts = packets.map(buildPacket);
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function buildPacket(packet: RtcpPacket): Uint8Array {
  switch (packet.type) {
    case 'sr':
      return buildSenderReport(packet);
    case 'rr':
      return buildReceiverReport(packet);
    case 'sdes':
      return buildSdes(packet);
    case 'bye':
      return buildBye(packet);
    case 'other':
      return withHeader(packet.packetType, packet.count, packet.body);
  }
}

function checkCount(count: number, what: string): void {
  if (count > 31) throw new RangeError(`RTCP allows at most 31 ${what} per packet`);
}

function buildSenderReport(sr: SenderReport): Uint8Array {
  checkCount(sr.reports.length, 'report blocks');
  const body = new Uint8Array(24 + sr.reports.length * REPORT_BLOCK);
  const view = new DataView(body.buffer);
  view.setUint32(0, sr.ssrc >>> 0);
  view.setUint32(4, sr.ntpSeconds >>> 0);
  view.setUint32(8, sr.ntpFraction >>> 0);
  view.setUint32(12, sr.rtpTimestamp >>> 0);
  view.setUint32(16, sr.packetCount >>> 0);
  view.setUint32(20, sr.octetCount >>> 0);
  writeReportBlocks(view, 24, sr.reports);
  return withHeader(RTCP_SR, sr.reports.length, body);
}

function buildReceiverReport(rr: ReceiverReport): Uint8Array {
  checkCount(rr.reports.length, 'report blocks');
  const body = new Uint8Array(4 + rr.reports.length * REPORT_BLOCK);
  const view = new DataView(body.buffer);
  view.setUint32(0, rr.ssrc >>> 0);
  writeReportBlocks(view, 4, rr.reports);
  return withHeader(RTCP_RR, rr.reports.length, body);
}

function writeReportBlocks(view: DataView, start: number, blocks: readonly ReportBlock[]): void {
  blocks.forEach((block, i) => {
    const at = start + i * REPORT_BLOCK;
    const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(block.cumulativeLost)));
    view.setUint32(at, block.ssrc >>> 0);
    view.setUint32(at + 4, (((block.fractionLost & 0xff) << 24) | (lost & 0xffffff)) >>> 0);
    view.setUint32(at + 8, block.extendedHighestSequence >>> 0);
    view.setUint32(at + 12, Math.max(0, Math.floor(block.jitter)) >>> 0);
    view.setUint32(at + 16, block.lastSenderReport >>> 0);
    view.setUint32(at + 20, block.delaySinceLastSenderReport >>> 0);
  });
}

function buildSdes(sdes: SourceDescription): Uint8Array {
  checkCount(sdes.chunks.length, 'SDES chunks');
  const encoded = sdes.chunks.map((chunk) => {
    const items = chunk.items.map((item) => {
      const text = textEncoder.encode(item.text);
      if (text.length > 255) throw new RangeError('an SDES item holds at most 255 bytes');
      return { type: item.type, text };
    });
    // SSRC + items + at least one null byte, padded to 32 bits.
    const size = (4 + items.reduce((sum, item) => sum + 2 + item.text.length, 0) + 1 + 3) & ~3;
    const bytes = new Uint8Array(size);
    new DataView(bytes.buffer).setUint32(0, chunk.ssrc >>> 0);
    let offset = 4;
    for (const item of items) {
      bytes[offset] = item.type;
      bytes[offset + 1] = item.text.length;
      bytes.set(item.text, offset + 2);
      offset += 2 + item.text.length;
    }
    return bytes;
  });
  const body = new Uint8Array(encoded.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of encoded) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return withHeader(RTCP_SDES, sdes.chunks.length, body);
}

function buildBye(bye: Goodbye): Uint8Array {
  checkCount(bye.ssrcs.length, 'BYE sources');
  const reason = bye.reason === undefined ? undefined : textEncoder.encode(bye.reason);
  if (reason && reason.length > 255) throw new RangeError('a BYE reason holds at most 255 bytes');
  const size = (bye.ssrcs.length * 4 + (reason ? 1 + reason.length : 0) + 3) & ~3;
  const body = new Uint8Array(size);
  const view = new DataView(body.buffer);
  bye.ssrcs.forEach((ssrc, i) => {
    view.setUint32(i * 4, ssrc >>> 0);
  });
  if (reason) {
    body[bye.ssrcs.length * 4] = reason.length;
    body.set(reason, bye.ssrcs.length * 4 + 1);
  }
  return withHeader(RTCP_BYE, bye.ssrcs.length, body);
}

function withHeader(packetType: number, count: number, body: Uint8Array): Uint8Array {
  if (body.length % 4 !== 0)
    throw new RangeError('an RTCP packet body must be a whole number of 32-bit words');
  const out = new Uint8Array(HEADER + body.length);
  out[0] = 0x80 | (count & 0x1f);
  out[1] = packetType;
  new DataView(out.buffer).setUint16(2, (out.length >> 2) - 1);
  out.set(body, HEADER);
  return out;
}
