import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { hostCandidate } from '../../src/media/ice/iceCandidate.js';
import type { IceCredentials, IceRemoteDescription } from '../../src/media/ice/iceTypes.js';
import {
  type DecodedStun,
  decodeStun,
  encodeStun,
  hasValidFingerprint,
  STUN_BINDING,
  type StunMessage,
  verifyIntegrity,
} from '../../src/media/ice/stunMessage.js';
import type { RtpEndpoint } from '../../src/media/sdp/sdpTypes.js';

interface IceLitePeerEvents {
  /** An authenticated binding request (already answered). */
  request: [DecodedStun, RtpEndpoint];
  /** An authenticated request carrying USE-CANDIDATE. */
  nominated: [RtpEndpoint, DecodedStun];
  /** Anything that is not STUN (DTLS, SRTP), for whoever plays the rest of the peer. */
  datagram: [Buffer, RtpEndpoint];
}

/**
 * A stand-in ice-lite peer (RFC 8445 §2.5), playing the part WhatsApp's media servers play: one
 * host candidate on a real UDP socket, answers binding requests that carry its credentials with
 * XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT, answers 401 to the rest, never sends a
 * check of its own, and reports USE-CANDIDATE. It counts every datagram it receives.
 */
export class IceLitePeer extends EventEmitter<IceLitePeerEvents> {
  /** Every datagram received, STUN or not. */
  datagrams = 0;
  nominatedBy: RtpEndpoint | null = null;

  private constructor(
    private readonly socket: Socket,
    public credentials: IceCredentials,
  ) {
    super();
    socket.on('message', (data, rinfo) =>
      this.onDatagram(data, { address: rinfo.address, port: rinfo.port }),
    );
  }

  static async start(credentials: IceCredentials): Promise<IceLitePeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new IceLitePeer(socket, credentials);
  }

  get endpoint(): RtpEndpoint {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  /** What its SDP would say: its credentials (or others, to test a wrong password), its candidate, ice-lite. */
  description(credentials: IceCredentials = this.credentials): IceRemoteDescription {
    return {
      credentials,
      candidates: [hostCandidate(this.endpoint.address, this.endpoint.port)],
      lite: true,
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onDatagram(data: Buffer, from: RtpEndpoint): void {
    this.datagrams += 1;
    const first = data[0] ?? 0;
    if (first > 3) {
      this.emit('datagram', data, from);
      return;
    }
    const request = decodeStun(data);
    if (request?.class !== 'request' || request.method !== STUN_BINDING) return;
    if (!hasValidFingerprint(request, data)) return;
    const authentic =
      request.username?.startsWith(`${this.credentials.ufrag}:`) === true &&
      verifyIntegrity(request, data, this.credentials.pwd);
    if (!authentic) {
      this.send({ ...base(request, 'error'), errorCode: { code: 401, reason: 'Unauthorized' } }, from, false);
      return;
    }
    this.send({ ...base(request, 'success'), xorMappedAddress: from }, from, true);
    this.emit('request', request, from);
    if (request.useCandidate) {
      this.nominatedBy = from;
      this.emit('nominated', from, request);
    }
  }

  /** Sends a non-STUN datagram from the peer's one socket (its DTLS and SRTP share it). */
  sendRaw(data: Buffer, to: RtpEndpoint): void {
    this.socket.send(data, to.port, to.address);
  }

  private send(message: StunMessage, to: RtpEndpoint, signed: boolean): void {
    const packet = encodeStun(message, signed ? { password: this.credentials.pwd } : {});
    this.socket.send(packet, to.port, to.address);
  }
}

function base(request: StunMessage, klass: 'success' | 'error'): StunMessage {
  return { class: klass, method: STUN_BINDING, transactionId: request.transactionId };
}
