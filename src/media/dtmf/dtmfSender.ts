import type { DtmfSenderOptions, OutgoingEventPacket } from './dtmfTypes.js';
import { digitToEvent, encodeTelephoneEvent } from './telephoneEvent.js';

const MAX_DURATION = 0xffff;

/**
 * The packets of one outgoing RFC 4733 event, one per packet interval: the first carries the
 * marker bit, each carries the duration so far, all share the event's timestamp, and the last
 * (with the E bit and the total duration) is sent `endRepeats` times (RFC 4733 §2.5.1).
 *
 * The media clock keeps running during the event: the caller advances its RTP sender by the
 * event's duration (RtpSender.skipFrames) so the audio after it carries later timestamps.
 * Durations beyond 65535 ticks (1.36 s at 48 kHz) are capped rather than split into segments.
 */
export function telephoneEventPackets(
  digit: string,
  timestamp: number,
  durationMs: number,
  options: DtmfSenderOptions,
): OutgoingEventPacket[] {
  const event = digitToEvent(digit);
  if (event === undefined) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
  const intervalMs = options.packetIntervalMs ?? 20;
  const tickPerPacket = (options.clockRate * intervalMs) / 1000;
  const total = Math.min(
    MAX_DURATION,
    Math.max(tickPerPacket, Math.round((durationMs * options.clockRate) / 1000)),
  );
  const volume = options.volume ?? 10;
  const packets: OutgoingEventPacket[] = [];
  let duration = tickPerPacket;
  let first = true;
  while (duration < total) {
    packets.push({
      payload: encodeTelephoneEvent({ event, end: false, volume, duration }),
      marker: first,
      timestamp: timestamp >>> 0,
      end: false,
    });
    first = false;
    duration += tickPerPacket;
  }
  const endPayload = encodeTelephoneEvent({ event, end: true, volume, duration: total });
  const repeats = options.endRepeats ?? 3;
  for (let i = 0; i < repeats; i++) {
    packets.push({ payload: endPayload, marker: first && i === 0, timestamp: timestamp >>> 0, end: true });
  }
  return packets;
}

/**
 * Tick-driven sending of queued digits: `next()` once per packet interval gives the packet to send
 * now, or undefined when no event is in progress (send audio then). Digits queue up in order.
 */
export class DtmfSender {
  private readonly queue: { digit: string; durationMs: number }[] = [];
  private packets: OutgoingEventPacket[] = [];
  private position = 0;

  constructor(private readonly options: DtmfSenderOptions) {}

  /** Queues a digit (validated now, so a bad digit fails the command, not the media loop). */
  enqueue(digit: string, durationMs = 100): void {
    if (digitToEvent(digit) === undefined) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
    this.queue.push({ digit, durationMs });
  }

  /** True while an event is being sent or digits wait. */
  get busy(): boolean {
    return this.position < this.packets.length || this.queue.length > 0;
  }

  /**
   * The packet for this tick. `timestamp` is the media clock now; a new event takes it as its
   * timestamp, and keeps it for all its packets.
   */
  next(timestamp: number): OutgoingEventPacket | undefined {
    if (this.position >= this.packets.length) {
      const queued = this.queue.shift();
      if (!queued) return undefined;
      this.packets = telephoneEventPackets(queued.digit, timestamp, queued.durationMs, this.options);
      this.position = 0;
    }
    return this.packets[this.position++];
  }
}
