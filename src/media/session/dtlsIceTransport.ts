import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { DtlsSrtpHandshake } from '../dtls/dtlsSrtpHandshake.js';
import type { DtlsCertificate } from '../dtls/dtlsTypes.js';
import { IceAgent } from '../ice/iceAgent.js';
import type { IceCandidate, IceCredentials, IceTimers } from '../ice/iceTypes.js';
import { isStunPacket } from '../ice/stunMessage.js';
import type { DtlsIceAgreement, RtpEndpoint } from '../sdp/sdpTypes.js';
import type { SrtpKeys } from '../srtp/srtpTypes.js';

/** How long ICE and DTLS may take; the defaults are the RFCs', shorter ones are for tests. */
export interface SecureMediaTimers {
  ice?: Partial<IceTimers>;
  handshakeTimeoutMs?: number;
}

export interface DtlsIceTransportOptions {
  sessionId: string;
  certificate: DtlsCertificate;
  ice: IceCredentials;
  localCandidate: IceCandidate;
  /** Sends on the session's one socket (STUN and DTLS share it with SRTP, RFC 7983). */
  send: (data: Buffer, to: RtpEndpoint) => void;
  logger: Logger;
  timers?: SecureMediaTimers;
}

export interface DtlsIceTransportEvents {
  /** SRTP keys from the DTLS exporter: media may flow (and we send first, as WhatsApp waits). */
  keys: [SrtpKeys];
  /** ICE found no path, the handshake failed or consent was lost: the call has no media. */
  failed: [{ reason: 'media_error' | 'media_timeout'; message: string }];
}

/** DTLS records start with a content type of 20–63 (RFC 7983 §7). */
function isDtlsRecord(data: Buffer): boolean {
  const first = data[0];
  return first !== undefined && first >= 20 && first <= 63;
}

/**
 * The secure transport of one DTLS-SRTP stream: the ICE agent that finds and keeps the path, and
 * the DTLS handshake over it that yields the SRTP keys. It reads the STUN and DTLS datagrams of
 * the session's socket (receive) and leaves SRTP and SRTCP to the session.
 *
 * The DTLS client starts its handshake once ICE has selected a pair; a server answers whatever
 * handshake arrives, since a controlling peer may finish ICE before we do.
 */
export class DtlsIceTransport extends EventEmitter<DtlsIceTransportEvents> {
  /** Made by the first agreement, which says our ICE role. */
  private agent: IceAgent | null = null;
  private handshake: DtlsSrtpHandshake | null = null;
  /** The client's handshake was started (once per handshake). */
  private started = false;
  private agreement: DtlsIceAgreement | null = null;
  /** Where DTLS goes before ICE selects: the source of the peer's last handshake record. */
  private dtlsSource: RtpEndpoint | null = null;
  private closed = false;
  /** The peer ended the association (close_notify): nothing more is sent to it. */
  private peerClosed = false;

  constructor(private readonly options: DtlsIceTransportOptions) {
    super();
  }

  /** Where SRTP goes: the selected pair, once keys exist (null before, and after the peer closed). */
  get target(): RtpEndpoint | null {
    if (this.peerClosed || !this.handshake?.keys) return null;
    return this.agent?.selectedPair ?? null;
  }

  /**
   * Applies an offer/answer's agreement: the first one starts ICE (and the handshake), a later
   * one (re-INVITE) restarts ICE if the credentials changed and the handshake if the peer's
   * certificate or our DTLS role did.
   */
  apply(agreement: DtlsIceAgreement): void {
    if (this.closed) return;
    const previous = this.agreement;
    this.agreement = agreement;
    const agent = this.agent ?? this.newAgent(agreement);
    agent.setRemote(agreement.remote.ice);
    const sameHandshake =
      previous !== null &&
      previous.dtlsRole === agreement.dtlsRole &&
      previous.remote.fingerprints.every((before) =>
        agreement.remote.fingerprints.some(
          (after) => after.algorithm === before.algorithm && after.value === before.value,
        ),
      );
    if (this.handshake && sameHandshake) return;
    this.handshake?.close();
    this.handshake = this.newHandshake(agreement);
    this.started = false;
    this.peerClosed = false;
    if (agent.selectedPair) this.startClient();
  }

  /** Takes the session socket's STUN and DTLS datagrams; false for anything else (SRTP). */
  receive(data: Buffer, from: RtpEndpoint): boolean {
    if (isStunPacket(data)) {
      if (!this.closed) this.agent?.handleStun(data, from);
      return true;
    }
    if (!isDtlsRecord(data)) return false;
    if (!this.closed && this.handshake) {
      this.dtlsSource = from;
      this.handshake.handle(data);
    }
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handshake?.close();
    this.agent?.close();
    this.removeAllListeners();
  }

  private newAgent(agreement: DtlsIceAgreement): IceAgent {
    const agent = new IceAgent({
      local: this.options.ice,
      localCandidate: this.options.localCandidate,
      role: agreement.iceRole,
      send: (data, to) => this.options.send(data, to),
      ...(this.options.timers?.ice ? { timers: this.options.timers.ice } : {}),
    });
    agent.on('selected', (pair) => this.onSelected(pair));
    agent.on('failed', (message) => this.fail('media_error', `ICE failed: ${message}`));
    agent.on('consentLost', (message) => this.fail('media_timeout', `ICE consent lost: ${message}`));
    this.agent = agent;
    return agent;
  }

  /** The DTLS client speaks first, once ICE has a path; a server waits for its ClientHello. */
  private startClient(): void {
    const handshake = this.handshake;
    if (!handshake || this.started || this.agreement?.dtlsRole !== 'client') return;
    this.started = true;
    handshake.start();
  }

  private newHandshake(agreement: DtlsIceAgreement): DtlsSrtpHandshake {
    const handshake = new DtlsSrtpHandshake({
      role: agreement.dtlsRole,
      certificate: this.options.certificate,
      remoteFingerprints: agreement.remote.fingerprints,
      send: (data) => {
        const to = this.agent?.selectedPair ?? this.dtlsSource;
        if (to) this.options.send(data, to);
      },
      ...(this.options.timers?.handshakeTimeoutMs
        ? { timeoutMs: this.options.timers.handshakeTimeoutMs }
        : {}),
    });
    handshake.on('keys', (keys) => {
      if (this.handshake !== handshake || this.closed) return;
      this.options.logger.info(
        { sessionId: this.options.sessionId, suite: keys.suite, role: agreement.dtlsRole },
        'DTLS-SRTP keys agreed',
      );
      this.emit('keys', keys);
    });
    handshake.on('failed', (message) => {
      if (this.handshake === handshake) this.fail('media_error', `DTLS handshake failed: ${message}`);
    });
    // A peer hanging up closes its association (close_notify) as it sends its BYE, and the alert
    // can beat a BYE relayed through a proxy: ending the call here would record media_error for a
    // plain hangup. Sending stops; the BYE, or else the media timeout and consent, end the call.
    handshake.on('closed', () => {
      if (this.handshake !== handshake || this.closed) return;
      this.peerClosed = true;
      this.options.logger.info({ sessionId: this.options.sessionId }, 'the peer closed its DTLS association');
    });
    return handshake;
  }

  private onSelected(pair: RtpEndpoint): void {
    this.options.logger.info(
      { sessionId: this.options.sessionId, pair, role: this.agent?.role },
      'ICE selected a candidate pair',
    );
    this.startClient();
  }

  private fail(reason: 'media_error' | 'media_timeout', message: string): void {
    if (this.closed) return;
    this.emit('failed', { reason, message });
  }
}
