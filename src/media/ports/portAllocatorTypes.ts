import type { Socket } from 'node:dgram';

/** An inclusive port range, as in config `media.rtpPortMin`..`rtpPortMax`. */
export interface PortRange {
  min: number;
  max: number;
}

export interface RtpPortAllocatorOptions {
  /** The sub-range this worker owns (see splitPortRange). */
  range: PortRange;
  /** Local address both sockets bind to; 0.0.0.0 or :: for all interfaces. */
  bindAddress: string;
}

/**
 * An even RTP port and the odd RTCP port above it, both bound. The holder owns the sockets
 * while the lease lasts; release() closes them and returns the pair, and is safe to call twice
 * (every teardown path calls it without knowing whether another path already did).
 */
export interface RtpPortLease {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtpSocket: Socket;
  /** Bound even under rtcp-mux, so no other process can take RTP + 1 from a peer that ignores mux. */
  readonly rtcpSocket: Socket;
  readonly released: boolean;
  release(): void;
}
