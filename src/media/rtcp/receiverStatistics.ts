import { ntpFromUnixMs, ntpMiddle32 } from './ntpTime.js';
import type { ReceiverStatisticsOptions, ReceiverStatisticsSnapshot } from './receiverStatisticsTypes.js';
import type { ReportBlock } from './rtcpTypes.js';

const RTP_SEQ_MOD = 1 << 16;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

/**
 * Receive-side statistics of one RTP source, as RFC 3550 Appendix A computes them: sequence
 * validation and extension (A.1), expected/lost and the per-interval fraction lost (A.3),
 * interarrival jitter (A.8), and LSR/DLSR from the source's last sender report (§6.4.1). Feeds the
 * report block of our RTCP RR/SR and the per-call stats.
 */
export class RtpReceiverStatistics {
  private readonly clockRate: number;
  private readonly minSequential: number;
  private ssrc: number | undefined;
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private probation = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private jitter = 0;
  private lastTransit: number | undefined;
  private lastSrCompact = 0;
  private lastSrArrivalMs: number | undefined;
  private started = false;

  constructor(options: ReceiverStatisticsOptions) {
    this.clockRate = options.clockRate;
    this.minSequential = Math.max(1, options.minSequential ?? 1);
  }

  /**
   * Accounts one received packet. `arrivalMs` is a monotonic receive time. Set `countJitter` false
   * for packets whose timestamps do not follow the media clock (telephone-event repeats one
   * timestamp per event) while still counting their sequence numbers.
   * Returns false when A.1 rejects the packet (probation, or a jump not yet confirmed).
   */
  update(
    ssrc: number,
    sequenceNumber: number,
    timestamp: number,
    arrivalMs: number,
    countJitter = true,
  ): boolean {
    if (!this.started || ssrc !== this.ssrc) {
      this.restart(ssrc, sequenceNumber);
    }
    if (!this.updateSequence(sequenceNumber)) return false;
    if (countJitter) {
      const transit = (arrivalMs * this.clockRate) / 1000 - timestamp;
      if (this.lastTransit !== undefined) {
        let d = transit - this.lastTransit;
        // Timestamps wrap at 2^32; a difference beyond half the range is a wrap, not jitter.
        if (d > 2 ** 31) d -= 2 ** 32;
        else if (d < -(2 ** 31)) d += 2 ** 32;
        this.jitter += (Math.abs(d) - this.jitter) / 16;
      }
      this.lastTransit = transit;
    }
    return true;
  }

  /** Records the source's sender report (for LSR/DLSR in our next report block). */
  onSenderReport(ntpSeconds: number, ntpFraction: number, arrivalMs: number): void {
    this.lastSrCompact = ntpMiddle32({ seconds: ntpSeconds, fraction: ntpFraction });
    this.lastSrArrivalMs = arrivalMs;
  }

  /**
   * The report block for this source at `nowMs` (same clock as arrivals). Advances the interval
   * for fraction lost, so call it once per report sent.
   */
  reportBlock(nowMs: number): ReportBlock | undefined {
    if (!this.started || this.ssrc === undefined) return undefined;
    const extendedMax = this.cycles + this.maxSeq;
    const expected = extendedMax - this.baseSeq + 1;
    const lost = expected - this.received;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    const dlsr =
      this.lastSrArrivalMs === undefined
        ? 0
        : Math.max(0, Math.round(((nowMs - this.lastSrArrivalMs) * 65536) / 1000));
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fractionLost),
      cumulativeLost: Math.max(-0x800000, Math.min(0x7fffff, lost)),
      extendedHighestSequence: extendedMax >>> 0,
      jitter: Math.floor(this.jitter),
      lastSenderReport: this.lastSrCompact,
      delaySinceLastSenderReport: dlsr >>> 0,
    };
  }

  snapshot(): ReceiverStatisticsSnapshot {
    const extendedMax = this.cycles + this.maxSeq;
    const expected = this.started ? extendedMax - this.baseSeq + 1 : 0;
    const lost = expected - this.received;
    return {
      ssrc: this.ssrc,
      received: this.received,
      expected,
      cumulativeLost: lost,
      extendedHighestSequence: extendedMax,
      jitter: this.jitter,
      jitterMs: (this.jitter * 1000) / this.clockRate,
      lossRatio: expected > 0 ? Math.max(0, lost) / expected : 0,
    };
  }

  private restart(ssrc: number, sequenceNumber: number): void {
    this.ssrc = ssrc;
    this.started = true;
    this.initSequence(sequenceNumber);
    this.maxSeq = (sequenceNumber - 1) & 0xffff;
    this.probation = this.minSequential;
    this.jitter = 0;
    this.lastTransit = undefined;
    this.expectedPrior = 0;
    this.receivedPrior = 0;
  }

  private initSequence(sequenceNumber: number): void {
    this.baseSeq = sequenceNumber;
    this.maxSeq = sequenceNumber;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /** RFC 3550 A.1 update_seq. */
  private updateSequence(seq: number): boolean {
    const delta = (seq - this.maxSeq) & 0xffff;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSequence(seq);
          this.received++;
          return true;
        }
      } else {
        this.probation = this.minSequential - 1;
        this.maxSeq = seq;
      }
      return false;
    }
    if (delta < MAX_DROPOUT) {
      // In order, with a permissible gap.
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
      this.maxSeq = seq;
    } else if (delta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A very large jump: accept it only when the next packet confirms it (the sender restarted).
      if (seq === this.badSeq) {
        this.initSequence(seq);
      } else {
        this.badSeq = (seq + 1) & (RTP_SEQ_MOD - 1);
        return false;
      }
    }
    // Otherwise a duplicate or reordered packet: counted, nothing else changes.
    this.received++;
    return true;
  }
}

/**
 * Round-trip time from a report block about our stream (RFC 3550 §6.4.1): RTT = A − LSR − DLSR,
 * with A the arrival time of the report in compact NTP. Undefined when the peer has had no SR from
 * us yet (LSR = 0). `arrivalUnixMs` is wall-clock time, since LSR echoes our NTP clock.
 */
export function roundTripTimeMs(block: ReportBlock, arrivalUnixMs: number): number | undefined {
  if (block.lastSenderReport === 0) return undefined;
  const arrival = ntpMiddle32(ntpFromUnixMs(arrivalUnixMs));
  const rtt = (arrival - block.lastSenderReport - block.delaySinceLastSenderReport) >>> 0;
  // A negative result (clock error, a forged block) shows up as a huge unsigned value.
  if (rtt > 0x80000000) return 0;
  return (rtt * 1000) / 65536;
}
