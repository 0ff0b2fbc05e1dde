import type { DtmfReceiverOptions, ReceivedDtmf } from './dtmfTypes.js';
import { eventToDigit, parseTelephoneEvent } from './telephoneEvent.js';

const REMEMBERED_EVENTS = 8;

/**
 * Turns the telephone-event packets of one stream into digits, each reported exactly once.
 *
 * A sender repeats an event's packets with one timestamp while the key is held and sends its end
 * packet three times (RFC 4733 §2.5.1): the timestamp is the event's identity. A digit is reported
 * on its first end packet (or on its first packet with `emitOn: 'start'`); if its end packets are
 * all lost, it is reported when the next event starts or when `poll` finds it silent too long.
 * Timestamps of reported events are remembered so late retransmissions are ignored.
 */
export class DtmfReceiver {
  private readonly clockRate: number;
  private readonly emitOnStart: boolean;
  private readonly timeoutMs: number;
  private current: { timestamp: number; event: number; duration: number; lastArrivalMs: number } | undefined;
  private readonly reported = new Float64Array(REMEMBERED_EVENTS).fill(Number.NaN);
  private reportedIndex = 0;
  /** Malformed payloads seen (counted, never thrown to the media loop). */
  malformed = 0;

  constructor(options: DtmfReceiverOptions) {
    this.clockRate = options.clockRate;
    this.emitOnStart = options.emitOn === 'start';
    this.timeoutMs = options.timeoutMs ?? 1000;
  }

  /**
   * Feeds one telephone-event packet. Returns the digits it completes, usually none or one (two
   * when it also reveals that a previous event lost its end packets).
   */
  receive(timestamp: number, payload: Uint8Array, arrivalMs: number): ReceivedDtmf[] {
    let parsed: ReturnType<typeof parseTelephoneEvent>;
    try {
      parsed = parseTelephoneEvent(payload);
    } catch {
      this.malformed++;
      return [];
    }
    if (this.wasReported(timestamp)) return [];
    const out: ReceivedDtmf[] = [];
    const current = this.current;
    if (current && current.timestamp !== timestamp) {
      // A new event: the previous one never ended (its end packets were lost).
      this.report(current, 'superseded', out);
      this.current = undefined;
    }
    if (!this.current) {
      this.current = { timestamp, event: parsed.event, duration: parsed.duration, lastArrivalMs: arrivalMs };
      if (this.emitOnStart) {
        this.report(this.current, 'start', out);
        this.current = undefined;
        return out;
      }
    }
    const active = this.current as NonNullable<typeof this.current>;
    active.duration = Math.max(active.duration, parsed.duration);
    active.lastArrivalMs = arrivalMs;
    if (parsed.end) {
      this.report(active, 'end', out);
      this.current = undefined;
    }
    return out;
  }

  /** Reports an event whose packets stopped without an end (call every tick or so). */
  poll(nowMs: number): ReceivedDtmf[] {
    const current = this.current;
    if (!current || nowMs - current.lastArrivalMs < this.timeoutMs) return [];
    const out: ReceivedDtmf[] = [];
    this.report(current, 'timeout', out);
    this.current = undefined;
    return out;
  }

  /** Forget the stream (SSRC change, re-INVITE). */
  reset(): void {
    this.current = undefined;
    this.reported.fill(Number.NaN);
  }

  private report(
    event: { timestamp: number; event: number; duration: number },
    reason: ReceivedDtmf['reason'],
    out: ReceivedDtmf[],
  ): void {
    this.reported[this.reportedIndex] = event.timestamp;
    this.reportedIndex = (this.reportedIndex + 1) % REMEMBERED_EVENTS;
    const digit = eventToDigit(event.event);
    if (digit === undefined) return;
    out.push({
      digit,
      event: event.event,
      timestamp: event.timestamp,
      durationMs: Math.round((event.duration * 1000) / this.clockRate),
      reason,
    });
  }

  private wasReported(timestamp: number): boolean {
    for (let i = 0; i < REMEMBERED_EVENTS; i++) if (this.reported[i] === timestamp) return true;
    return false;
  }
}
