import { describe, expect, it } from 'vitest';
import { PacketRing } from '../../../src/media/session/packetRing.js';

describe('PacketRing', () => {
  it('gives each packet of one turn its own bytes, so a reused source buffer cannot overwrite a queued send', () => {
    const ring = new PacketRing(4, 16);
    const source = new Uint8Array(3);
    const copies = [1, 2, 3, 4].map((value) => {
      source.fill(value);
      return ring.copy(source);
    });
    expect(copies.map((copy) => [...copy])).toEqual([
      [1, 1, 1],
      [2, 2, 2],
      [3, 3, 3],
      [4, 4, 4],
    ]);
    // Oversized packets are copied fresh rather than cut.
    expect(ring.copy(new Uint8Array(20)).length).toBe(20);
  });
});
