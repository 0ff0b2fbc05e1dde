import { ntpFromUnixMs } from './ntpTime.js';
import { buildRtcpCompound } from './rtcpPacket.js';
import type { RtcpReportInput } from './rtcpReportBuilderTypes.js';
import { type RtcpPacket, SDES_CNAME } from './rtcpTypes.js';

/**
 * Our periodic compound report (RFC 3550 §6.1): an SR when we have sent media since the call
 * started (else an RR), with a report block for the source we receive, then SDES CNAME, then BYE
 * when the call ends.
 */
export function buildRtcpReport(input: RtcpReportInput): Uint8Array {
  const block = input.receiver?.reportBlock(input.nowMs);
  const reports = block ? [block] : [];
  const packets: RtcpPacket[] = [];
  const sender = input.sender;
  if (sender && sender.stats.packetsSent > 0) {
    const ntp = ntpFromUnixMs(input.nowUnixMs);
    packets.push({
      type: 'sr',
      ssrc: input.ssrc,
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: sender.rtpTimestampNow >>> 0,
      packetCount: sender.stats.packetsSent >>> 0,
      octetCount: sender.stats.octetsSent >>> 0,
      reports,
    });
  } else {
    packets.push({ type: 'rr', ssrc: input.ssrc, reports });
  }
  packets.push({
    type: 'sdes',
    chunks: [{ ssrc: input.ssrc, items: [{ type: SDES_CNAME, text: input.cname }] }],
  });
  if (input.bye) {
    packets.push(
      input.bye.reason === undefined
        ? { type: 'bye', ssrcs: [input.ssrc] }
        : { type: 'bye', ssrcs: [input.ssrc], reason: input.bye.reason },
    );
  }
  return buildRtcpCompound(packets);
}

/**
 * The delay before our next report: RFC 3550 §6.3.1's 5 s minimum for a two-party session, times a
 * random factor in [0.5, 1.5] so reports of many calls do not synchronise. `random` is injected so
 * tests are deterministic.
 */
export function nextRtcpIntervalMs(random: () => number, minimumMs = 5000): number {
  return minimumMs * (0.5 + random());
}
