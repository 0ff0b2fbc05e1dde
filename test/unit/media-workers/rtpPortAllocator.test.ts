import type { Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { bindUdpSocket } from '../../../src/media/ports/bindUdpSocket.js';
import {
  PortsExhaustedError,
  RtpPortAllocator,
  type RtpPortLease,
  splitPortRange,
} from '../../../src/media/ports/index.js';

/** A random even base in a high block, so parallel test files rarely meet. */
function randomBase(): number {
  return 30_000 + Math.floor(Math.random() * 1000) * 32;
}

const blockers: Socket[] = [];
afterEach(() => {
  for (const socket of blockers.splice(0)) socket.close();
});

async function block(port: number): Promise<void> {
  blockers.push(await bindUdpSocket(port, '127.0.0.1'));
}

/** Every port of the range can be bound again: nothing of ours is still holding one. */
async function expectAllFree(min: number, max: number): Promise<void> {
  const sockets: Socket[] = [];
  try {
    for (let port = min; port <= max; port++) sockets.push(await bindUdpSocket(port, '127.0.0.1'));
  } finally {
    for (const socket of sockets) socket.close();
  }
  expect(sockets).toHaveLength(max - min + 1);
}

describe('splitPortRange', () => {
  it('splits the default range in two even-aligned halves', () => {
    expect(splitPortRange({ min: 20000, max: 29999 }, 2)).toEqual([
      { min: 20000, max: 24999 },
      { min: 25000, max: 29999 },
    ]);
  });

  it('gives the remainder pairs to the first workers and skips an odd start', () => {
    // 20001-20010 holds the pairs 20002, 20004, 20006, 20008.
    expect(splitPortRange({ min: 20001, max: 20010 }, 3)).toEqual([
      { min: 20002, max: 20005 },
      { min: 20006, max: 20007 },
      { min: 20008, max: 20009 },
    ]);
  });

  it('covers the range without overlap for any worker count', () => {
    for (let count = 1; count <= 16; count++) {
      const slices = splitPortRange({ min: 10000, max: 10999 }, count);
      expect(slices).toHaveLength(count);
      for (const [index, slice] of slices.entries()) {
        expect(slice.min % 2).toBe(0);
        expect(slice.max % 2).toBe(1);
        if (index > 0) expect(slice.min).toBe((slices[index - 1]?.max ?? 0) + 1);
      }
      expect(slices[0]?.min).toBe(10000);
      expect(slices.at(-1)?.max).toBe(10999);
    }
  });

  it('refuses more workers than pairs', () => {
    expect(() => splitPortRange({ min: 20000, max: 20003 }, 3)).toThrow(RangeError);
  });
});

describe('RtpPortAllocator', () => {
  it('leases an even RTP port with both sockets bound and RTCP one above', async () => {
    const base = randomBase();
    const allocator = new RtpPortAllocator({ range: { min: base, max: base + 9 }, bindAddress: '127.0.0.1' });
    const lease = await allocator.allocate();
    expect(lease.rtpPort % 2).toBe(0);
    expect(lease.rtcpPort).toBe(lease.rtpPort + 1);
    expect(lease.rtpSocket.address().port).toBe(lease.rtpPort);
    expect(lease.rtcpSocket.address().port).toBe(lease.rtcpPort);
    expect(allocator.inUse).toBe(1);
    lease.release();
    lease.release();
    expect(lease.released).toBe(true);
    expect(allocator.inUse).toBe(0);
  });

  it('skips pairs whose RTP or RTCP port another socket holds, without keeping the half it bound', async () => {
    const base = randomBase();
    const allocator = new RtpPortAllocator({ range: { min: base, max: base + 7 }, bindAddress: '127.0.0.1' });
    await block(base); // RTP of pair 0
    await block(base + 3); // RTCP of pair 1
    const lease = await allocator.allocate();
    expect(lease.rtpPort).toBe(base + 4);
    // The RTP port of pair 1 was bound, then let go when its RTCP port failed.
    const probe = await bindUdpSocket(base + 2, '127.0.0.1');
    probe.close();
    lease.release();
    expect(allocator.inUse).toBe(0);
  });

  it('allocates and releases thousands of times, sequentially and in bursts, and ends with none in use', async () => {
    const base = randomBase();
    const range = { min: base, max: base + 31 };
    const allocator = new RtpPortAllocator({ range, bindAddress: '127.0.0.1' });
    const seen = new Set<number>();
    for (let round = 0; round < 2000; round++) {
      const lease = await allocator.allocate();
      seen.add(lease.rtpPort);
      expect(allocator.inUse).toBe(1);
      lease.release();
    }
    expect(seen.size).toBe(16);
    for (let burst = 0; burst < 50; burst++) {
      const leases = await Promise.all(Array.from({ length: 16 }, () => allocator.allocate()));
      expect(new Set(leases.map((lease) => lease.rtpPort)).size).toBe(16);
      expect(allocator.inUse).toBe(16);
      for (const lease of leases) lease.release();
    }
    expect(allocator.inUse).toBe(0);
    await expectAllFree(range.min, range.max);
  });

  it('refuses with a typed error when every pair is leased, and recovers after release', async () => {
    const base = randomBase();
    const allocator = new RtpPortAllocator({ range: { min: base, max: base + 5 }, bindAddress: '127.0.0.1' });
    const leases: RtpPortLease[] = [];
    for (let i = 0; i < allocator.capacity; i++) leases.push(await allocator.allocate());
    await expect(allocator.allocate()).rejects.toBeInstanceOf(PortsExhaustedError);
    expect(allocator.inUse).toBe(3);
    leases[1]?.release();
    const again = await allocator.allocate();
    expect(again.rtpPort).toBe(leases[1]?.rtpPort);
    for (const lease of [...leases, again]) lease.release();
    expect(allocator.inUse).toBe(0);
  });

  it('leaves nothing held when every port is taken by others', async () => {
    const base = randomBase();
    const range = { min: base, max: base + 5 };
    const allocator = new RtpPortAllocator({ range, bindAddress: '127.0.0.1' });
    for (const port of [base, base + 3, base + 5]) await block(port);
    await expect(allocator.allocate()).rejects.toMatchObject({ code: 'ports_exhausted' });
    expect(allocator.inUse).toBe(0);
    for (const socket of blockers.splice(0)) socket.close();
    await expectAllFree(range.min, range.max);
  });

  it('passes on bind errors that are not about the port, releasing the reservation', async () => {
    const base = randomBase();
    // 192.0.2.1 (TEST-NET-1) is no local address: EADDRNOTAVAIL, not a taken port.
    const allocator = new RtpPortAllocator({ range: { min: base, max: base + 3 }, bindAddress: '192.0.2.1' });
    await expect(allocator.allocate()).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
    expect(allocator.inUse).toBe(0);
  });
});
