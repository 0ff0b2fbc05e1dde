import { RtpParseError } from './rtpErrors.js';
import type { RtpHeaderExtension, RtpPacket, RtpPacketInit } from './rtpPacketTypes.js';

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_SIZE = 12;
const NO_CSRCS: readonly number[] = Object.freeze([]);

/**
 * Parses an RTP packet (RFC 3550 §5.1). Payload and extension are views into `data`; nothing is
 * copied. Throws RtpParseError on anything malformed so one bad datagram never takes a call down.
 */
export function parseRtpPacket(data: Uint8Array): RtpPacket {
  if (data.length < RTP_FIXED_HEADER_SIZE)
    throw new RtpParseError(`RTP packet too short: ${data.length} bytes`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const first = data[0] as number;
  const version = first >> 6;
  if (version !== RTP_VERSION) throw new RtpParseError(`RTP version ${version}, expected 2`);
  const padding = (first & 0x20) !== 0;
  const hasExtension = (first & 0x10) !== 0;
  const csrcCount = first & 0x0f;
  const second = data[1] as number;
  let offset = RTP_FIXED_HEADER_SIZE + csrcCount * 4;
  if (offset > data.length) throw new RtpParseError(`RTP packet too short for ${csrcCount} CSRCs`);
  let csrcs = NO_CSRCS;
  if (csrcCount > 0) {
    const list: number[] = [];
    for (let i = 0; i < csrcCount; i++) list.push(view.getUint32(RTP_FIXED_HEADER_SIZE + i * 4));
    csrcs = list;
  }
  let extension: RtpHeaderExtension | undefined;
  if (hasExtension) {
    if (offset + 4 > data.length) throw new RtpParseError('RTP packet too short for its header extension');
    const profile = view.getUint16(offset);
    const length = view.getUint16(offset + 2) * 4;
    offset += 4;
    if (offset + length > data.length) throw new RtpParseError('RTP header extension runs past the packet');
    extension = { profile, data: data.subarray(offset, offset + length) };
    offset += length;
  }
  let end = data.length;
  let paddingLength = 0;
  if (padding) {
    paddingLength = data[data.length - 1] as number;
    if (paddingLength === 0 || offset + paddingLength > data.length) {
      throw new RtpParseError(`RTP padding count ${paddingLength} is invalid`);
    }
    end -= paddingLength;
  }
  return {
    version: RTP_VERSION,
    padding,
    marker: (second & 0x80) !== 0,
    payloadType: second & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    extension,
    payload: data.subarray(offset, end),
    paddingLength,
  };
}

/** Header size of a packet as `serializeRtpPacket` writes it. */
export function rtpHeaderSize(init: Pick<RtpPacketInit, 'csrcs' | 'extension'>): number {
  const csrcs = init.csrcs?.length ?? 0;
  const extension = init.extension ? 4 + init.extension.data.length : 0;
  return RTP_FIXED_HEADER_SIZE + csrcs * 4 + extension;
}

/** Total size of a packet as `serializeRtpPacket` writes it. */
export function rtpPacketSize(init: RtpPacketInit): number {
  return rtpHeaderSize(init) + init.payload.length + (init.paddingLength ?? 0);
}

/**
 * Writes a packet into `out` (allocating one of the exact size when absent) and returns the view of
 * the bytes written. Senders pass a reused buffer so the per-packet path does not allocate.
 */
export function serializeRtpPacket(init: RtpPacketInit, out?: Uint8Array): Uint8Array {
  const size = rtpPacketSize(init);
  const target = out ?? new Uint8Array(size);
  if (target.length < size)
    throw new RangeError(`RTP buffer of ${target.length} bytes, packet needs ${size}`);
  const csrcs = init.csrcs ?? NO_CSRCS;
  if (csrcs.length > 15) throw new RangeError('RTP allows at most 15 CSRCs');
  if (init.payloadType < 0 || init.payloadType > 127)
    throw new RangeError(`payload type ${init.payloadType}`);
  const paddingLength = init.paddingLength ?? 0;
  if (paddingLength < 0 || paddingLength > 255) throw new RangeError(`padding length ${paddingLength}`);
  const extension = init.extension;
  if (extension && extension.data.length % 4 !== 0) {
    throw new RangeError('RTP header extension data must be a whole number of 32-bit words');
  }
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  target[0] = (RTP_VERSION << 6) | (paddingLength > 0 ? 0x20 : 0) | (extension ? 0x10 : 0) | csrcs.length;
  target[1] = (init.marker ? 0x80 : 0) | init.payloadType;
  view.setUint16(2, init.sequenceNumber & 0xffff);
  view.setUint32(4, init.timestamp >>> 0);
  view.setUint32(8, init.ssrc >>> 0);
  let offset = RTP_FIXED_HEADER_SIZE;
  for (const csrc of csrcs) {
    view.setUint32(offset, csrc >>> 0);
    offset += 4;
  }
  if (extension) {
    view.setUint16(offset, extension.profile);
    view.setUint16(offset + 2, extension.data.length / 4);
    target.set(extension.data, offset + 4);
    offset += 4 + extension.data.length;
  }
  target.set(init.payload, offset);
  offset += init.payload.length;
  if (paddingLength > 0) {
    target.fill(0, offset, offset + paddingLength - 1);
    target[offset + paddingLength - 1] = paddingLength;
    offset += paddingLength;
  }
  return target.subarray(0, offset);
}

/** Cheap check used to demultiplex RTP from RTCP on one port (RFC 5761 §4): PT 64–95 is RTCP. */
export function looksLikeRtcp(data: Uint8Array): boolean {
  if (data.length < 2) return false;
  const packetType = data[1] as number;
  return packetType >= 192 && packetType <= 223;
}
