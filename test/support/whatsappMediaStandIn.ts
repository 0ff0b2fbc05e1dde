import { createDtlsCertificate } from '../../src/media/dtls/dtlsCertificate.js';
import { parseFingerprint } from '../../src/media/dtls/dtlsFingerprint.js';
import { DtlsSrtpHandshake } from '../../src/media/dtls/dtlsSrtpHandshake.js';
import type { DtlsCertificate, DtlsFingerprint } from '../../src/media/dtls/dtlsTypes.js';
import { newIceCredentials } from '../../src/media/ice/iceCredentials.js';
import { parseRtpPacket, serializeRtpPacket } from '../../src/media/rtp/rtpPacket.js';
import type { RtpEndpoint } from '../../src/media/sdp/sdpTypes.js';
import { SrtpTransform } from '../../src/media/srtp/srtpTransform.js';
import { IceLitePeer } from './iceLitePeer.js';

/**
 * Stand-in for WhatsApp's media server in its default DTLS mode, since Meta's cannot be reached
 * from here. It behaves as `../shared/notes/whatsapp-calling.md` says Meta's does: ice-lite with
 * one host candidate (so the gateway must be the controlling agent and nominate), a=setup:actpass
 * (so the gateway answers active and sends the ClientHello), rtcp-mux and BUNDLE, and it sends no
 * media until the first SRTP packet from the gateway has arrived and authenticated.
 *
 * Its DTLS and SRTP are the gateway's own modules: what this proves is the gateway's behaviour
 * toward such a peer (roles, nomination, who speaks first), not interop, which baresip covers.
 */
export class WhatsAppMediaStandIn {
  /** Payload types of the gateway's packets, in arrival order, once decrypted. */
  readonly received: number[] = [];
  /** Set when the first authentic SRTP packet from the gateway arrived. */
  firstFromGateway: number | null = null;
  /** Set when this peer sent its first media packet. */
  firstSent: number | null = null;
  private handshake: DtlsSrtpHandshake | null = null;
  private srtp: SrtpTransform | null = null;
  private gateway: RtpEndpoint | null = null;
  private sendTimer: NodeJS.Timeout | null = null;
  private sequence = 0;
  private closed = false;

  private constructor(
    readonly ice: IceLitePeer,
    private readonly certificate: DtlsCertificate,
  ) {
    ice.on('datagram', (data, from) => this.onDatagram(data, from));
  }

  static async start(): Promise<WhatsAppMediaStandIn> {
    const [ice, certificate] = await Promise.all([
      IceLitePeer.start(newIceCredentials()),
      createDtlsCertificate(),
    ]);
    return new WhatsAppMediaStandIn(ice, certificate);
  }

  /** Meta's offer shape: Opus (and PCMU, as `additional_codecs` adds), telephone-event/8000. */
  offer(fingerprint: DtlsFingerprint = this.certificate.fingerprint): string {
    const { address, port } = this.ice.endpoint;
    return [
      'v=0',
      `o=- 1 1 IN IP4 ${address}`,
      's=-',
      't=0 0',
      'a=ice-lite',
      'a=group:BUNDLE audio',
      `m=audio ${port} UDP/TLS/RTP/SAVPF 111 0 126`,
      `c=IN IP4 ${address}`,
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 maxaveragebitrate=20000;maxplaybackrate=16000;useinbandfec=1',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:126 telephone-event/8000',
      'a=ptime:20',
      'a=mid:audio',
      'a=rtcp-mux',
      `a=ice-ufrag:${this.ice.credentials.ufrag}`,
      `a=ice-pwd:${this.ice.credentials.pwd}`,
      `a=fingerprint:${fingerprint.algorithm} ${fingerprint.value}`,
      'a=setup:actpass',
      `a=candidate:1 1 udp 2122260223 ${address} ${port} typ host`,
      'a=sendrecv',
      '',
    ].join('\r\n');
  }

  /** Takes the gateway's answer: its fingerprint is what the DTLS client must present. */
  accept(answerSdp: string): void {
    const line = /^a=fingerprint:(.+)$/m.exec(answerSdp)?.[1];
    const fingerprint = line ? parseFingerprint(line.trim()) : null;
    if (!fingerprint) throw new Error(`no fingerprint in the answer:\n${answerSdp}`);
    if (!/^a=setup:active/m.test(answerSdp)) throw new Error('the answer is not a=setup:active');
    const handshake = new DtlsSrtpHandshake({
      role: 'server',
      certificate: this.certificate,
      remoteFingerprints: [fingerprint],
      send: (data) => {
        if (this.gateway) this.ice.sendRaw(data, this.gateway);
      },
    });
    handshake.on('keys', (keys) => {
      this.srtp = new SrtpTransform(keys);
    });
    this.handshake = handshake;
  }

  get keyed(): boolean {
    return this.srtp !== null;
  }

  /** Idempotent: a test may close it early (a vanished peer) and its cleanup again. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sendTimer) clearInterval(this.sendTimer);
    this.handshake?.close();
    await this.ice.close();
  }

  private onDatagram(data: Buffer, from: RtpEndpoint): void {
    const first = data[0] ?? 0;
    if (first >= 20 && first <= 63) {
      this.gateway = from;
      this.handshake?.handle(data);
      return;
    }
    const srtp = this.srtp;
    // RTCP (payload types 200–204 under rtcp-mux) is not what this peer waits for.
    if (!srtp || first < 128 || first > 191 || ((data[1] ?? 0) >= 200 && (data[1] ?? 0) <= 204)) return;
    const opened = srtp.unprotectRtp(data);
    if (!opened.ok) return;
    this.received.push(parseRtpPacket(opened.packet).payloadType);
    if (this.firstFromGateway === null) {
      this.firstFromGateway = performance.now();
      this.gateway = from;
      this.startSending();
    }
  }

  /** PCMU at 20 ms, only once the gateway has spoken first (Meta's rule). */
  private startSending(): void {
    this.sendTimer = setInterval(() => {
      const srtp = this.srtp;
      const to = this.gateway;
      if (!srtp || !to) return;
      this.firstSent ??= performance.now();
      const sequence = this.sequence++;
      const packet = serializeRtpPacket({
        payloadType: 0,
        sequenceNumber: sequence,
        timestamp: sequence * 160,
        ssrc: 0x5a5a5a5a,
        payload: new Uint8Array(160).fill(0xff),
      });
      this.ice.sendRaw(srtp.protectRtp(packet), to);
    }, 20);
  }
}
