/**
 * Copies outgoing packets into a small ring of reused buffers.
 *
 * dgram does not copy what it is given: sending to an address resolves it first (dns.lookup,
 * on the next tick even for an IP literal), and only then reads the bytes. RtpSender writes every
 * packet into one reused buffer, so two packets sent in the same turn (a catch-up tick, audio then
 * RTCP) would both go out with the second one's bytes. A ring of a few slots outlives the turn
 * without allocating per packet.
 */
export class PacketRing {
  private readonly slots: Uint8Array[];
  private next = 0;

  constructor(slots = 8, slotSize = 1500) {
    this.slots = Array.from({ length: slots }, () => new Uint8Array(slotSize));
  }

  copy(packet: Uint8Array): Uint8Array {
    const slot = this.slots[this.next] as Uint8Array;
    this.next = (this.next + 1) % this.slots.length;
    if (packet.length > slot.length) return Uint8Array.from(packet);
    slot.set(packet);
    return slot.subarray(0, packet.length);
  }
}
