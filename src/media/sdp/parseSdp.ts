import { type MediaDescription, parse, type SessionDescription } from 'sdp-transform';
import { SdpMalformedError } from './sdpErrors.js';

/** Bodies beyond this are not an audio call's SDP; refusing early bounds the parser's work. */
const MAX_SDP_BYTES = 64 * 1024;

const LINE = /^[a-z]=[^\r\n]*$/;
const MEDIA_LINE = /^m=[a-z]+ \d{1,5}(\/\d+)? \S+( \S+)*$/;

/**
 * sdp-transform never rejects anything (garbage parses to an object with holes), so the shape
 * RFC 4566 requires is checked here first: every line `x=...`, v=0 first, o= and s= present,
 * m= lines well formed. What passes can be read without guarding every field downstream.
 */
export function parseSdp(text: string): SessionDescription {
  if (Buffer.byteLength(text, 'utf8') > MAX_SDP_BYTES) throw new SdpMalformedError('SDP body too large');
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  if (lines[0] !== 'v=0') throw new SdpMalformedError('SDP must start with v=0');
  for (const line of lines) {
    if (!LINE.test(line))
      throw new SdpMalformedError(`not an SDP line: ${JSON.stringify(line.slice(0, 80))}`);
    if (line.startsWith('m=') && !MEDIA_LINE.test(line)) {
      throw new SdpMalformedError(`malformed media line: ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  if (!lines.some((line) => line.startsWith('o='))) throw new SdpMalformedError('SDP has no o= line');
  if (!lines.some((line) => line.startsWith('s='))) throw new SdpMalformedError('SDP has no s= line');
  if (!lines.some((line) => line.startsWith('m='))) throw new SdpMalformedError('SDP has no m= line');
  const description = parse(text);
  if (!description.origin || typeof description.origin.sessionVersion !== 'number') {
    throw new SdpMalformedError('malformed o= line');
  }
  for (const media of description.media) {
    if (!Number.isInteger(media.port) || media.port < 0 || media.port > 65535) {
      throw new SdpMalformedError(`media port out of range: ${media.port}`);
    }
  }
  return description;
}

/** The connection address that applies to a media section: its own c=, else the session's. */
export function connectionOf(
  session: SessionDescription,
  media: MediaDescription,
): { version: 4 | 6; ip: string } {
  const connection = media.connection ?? session.connection;
  if (!connection?.ip) throw new SdpMalformedError('no c= line at session or media level');
  const version = connection.version === 6 ? 6 : connection.version === 4 ? 4 : null;
  if (version === null) throw new SdpMalformedError(`unsupported address type IP${connection.version}`);
  // Only the address itself; a multicast "/ttl" suffix makes no sense for a call and is dropped.
  const ip = connection.ip.split('/')[0] ?? '';
  if (version === 4 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && !isHostName(ip)) {
    throw new SdpMalformedError(`bad IPv4 connection address ${JSON.stringify(ip)}`);
  }
  if (version === 6 && !ip.includes(':')) {
    throw new SdpMalformedError(`bad IPv6 connection address ${JSON.stringify(ip)}`);
  }
  return { version, ip };
}

/** RFC 4566 allows a FQDN in c=; a few carriers still send one. */
function isHostName(value: string): boolean {
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(value);
}

/** True for the RFC 2543 hold address (c=IN IP4 0.0.0.0, or :: in IPv6). */
export function isHoldAddress(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}
