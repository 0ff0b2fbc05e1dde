import type { Socket } from 'node:dgram';
import { bindUdpSocket, closeQuietly, isPortUnavailable } from './bindUdpSocket.js';
import type { PortRange, RtpPortAllocatorOptions, RtpPortLease } from './portAllocatorTypes.js';
import { PortsExhaustedError } from './portErrors.js';
import { firstEvenIn, pairsIn } from './splitPortRange.js';

/**
 * Hands out RTP/RTCP port pairs from one worker's slice of the range, binding both sockets so
 * that what it hands out is really ours: a port the OS refuses (another process holds it) is
 * skipped, never leased.
 *
 * The search starts after the last pair handed out, so a released pair rests while the rest of
 * the range is used; late packets of an ended call then do not land in a new one.
 */
export class RtpPortAllocator {
  private readonly leased = new Set<number>();
  private readonly firstPort: number;
  private readonly pairs: number;
  private cursor = 0;

  constructor(private readonly options: RtpPortAllocatorOptions) {
    this.firstPort = firstEvenIn(options.range);
    this.pairs = pairsIn(options.range);
    if (this.pairs < 1)
      throw new RangeError(`RTP range ${describe(options.range)} holds no even/odd port pair`);
  }

  /** Leases currently held. */
  get inUse(): number {
    return this.leased.size;
  }

  /** Pairs in this allocator's range. */
  get capacity(): number {
    return this.pairs;
  }

  get range(): PortRange {
    return this.options.range;
  }

  async allocate(): Promise<RtpPortLease> {
    for (let attempt = 0; attempt < this.pairs; attempt++) {
      const index = (this.cursor + attempt) % this.pairs;
      const rtpPort = this.firstPort + index * 2;
      if (this.leased.has(rtpPort)) continue;
      // Reserved before the first await, so concurrent allocations never pick the same pair.
      this.leased.add(rtpPort);
      let sockets: { rtp: Socket; rtcp: Socket };
      try {
        sockets = await this.bindPair(rtpPort);
      } catch (error) {
        this.leased.delete(rtpPort);
        if (isPortUnavailable(error)) continue;
        throw error;
      }
      this.cursor = (index + 1) % this.pairs;
      return this.lease(rtpPort, sockets.rtp, sockets.rtcp);
    }
    throw new PortsExhaustedError(`no free RTP port pair in ${describe(this.options.range)}`);
  }

  private async bindPair(rtpPort: number): Promise<{ rtp: Socket; rtcp: Socket }> {
    const rtp = await bindUdpSocket(rtpPort, this.options.bindAddress);
    try {
      return { rtp, rtcp: await bindUdpSocket(rtpPort + 1, this.options.bindAddress) };
    } catch (error) {
      closeQuietly(rtp);
      throw error;
    }
  }

  private lease(rtpPort: number, rtpSocket: Socket, rtcpSocket: Socket): RtpPortLease {
    const leased = this.leased;
    let released = false;
    return {
      rtpPort,
      rtcpPort: rtpPort + 1,
      rtpSocket,
      rtcpSocket,
      get released() {
        return released;
      },
      release() {
        if (released) return;
        released = true;
        closeQuietly(rtpSocket);
        closeQuietly(rtcpSocket);
        leased.delete(rtpPort);
      },
    };
  }
}

function describe(range: PortRange): string {
  return `${range.min}-${range.max}`;
}
