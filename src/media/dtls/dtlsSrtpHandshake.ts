import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  DtlsClient,
  DtlsServer,
  type DtlsSocket,
  HashAlgorithm,
  SignatureAlgorithm,
} from 'werift-dtls/lib/dtls/src/index.js';
import type { SrtpKeys, SrtpSuiteName } from '../srtp/srtpTypes.js';
import { matchesFingerprint } from './dtlsFingerprint.js';
import type { DtlsCertificate, DtlsFingerprint, DtlsRole } from './dtlsTypes.js';

/** RFC 5764 §4.1.2 protection profile numbers, as werift-dtls names them. */
const PROFILE_OF: Record<SrtpSuiteName, 1 | 7> = { AES_CM_128_HMAC_SHA1_80: 1, AEAD_AES_128_GCM: 7 };
const KEY_AND_SALT: Record<SrtpSuiteName, { key: number; salt: number }> = {
  AES_CM_128_HMAC_SHA1_80: { key: 16, salt: 14 },
  // RFC 7714 §12: the GCM profile's master salt is 96 bits.
  AEAD_AES_128_GCM: { key: 16, salt: 12 },
};
const DEFAULT_SUITES: readonly SrtpSuiteName[] = ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'];
/** How long a handshake may take, retransmissions included, before the call has no media. */
const DEFAULT_TIMEOUT_MS = 10_000;

export interface DtlsSrtpHandshakeOptions {
  role: DtlsRole;
  certificate: DtlsCertificate;
  /** From the peer's SDP: its certificate must match one, or no keys come out. */
  remoteFingerprints: readonly DtlsFingerprint[];
  /** Offered (client) or accepted (server), best first. */
  suites?: readonly SrtpSuiteName[];
  /** Sends one datagram to the peer (on the session's socket, to the ICE-selected address). */
  send: (data: Buffer) => void;
  timeoutMs?: number;
}

export interface DtlsSrtpHandshakeEvents {
  keys: [SrtpKeys];
  failed: [string];
  /** The peer ended the association (an alert) after it was up. */
  closed: [];
}

/**
 * One DTLS-SRTP handshake (RFC 5764) over someone else's socket: werift-dtls runs the DTLS 1.2
 * state machine, its flights and their retransmission; this class feeds it the datagrams the
 * session demultiplexed, checks the peer's certificate against the SDP fingerprint (RFC 5763
 * §5: that is the only thing that authenticates the peer), bounds the whole handshake in time
 * and turns the exporter's output into SRTP master keys (RFC 5764 §4.2).
 */
export class DtlsSrtpHandshake extends EventEmitter<DtlsSrtpHandshakeEvents> {
  private readonly socket: DtlsSocket;
  private readonly transport: WeriftTransport;
  private readonly suites: readonly SrtpSuiteName[];
  private timer: NodeJS.Timeout | null = null;
  private agreed: SrtpKeys | null = null;
  private done = false;
  private started = false;

  constructor(private readonly options: DtlsSrtpHandshakeOptions) {
    super();
    this.suites = options.suites ?? DEFAULT_SUITES;
    this.transport = new WeriftTransport((data) => {
      if (!this.done || this.agreed) options.send(data);
    });
    const socketOptions = {
      transport: this.transport,
      cert: options.certificate.certPem,
      key: options.certificate.keyPem,
      // What our certificate signs with (ECDSA P-256 over SHA-256, dtlsCertificate.ts).
      signatureHash: { hash: HashAlgorithm.sha256_4, signature: SignatureAlgorithm.ecdsa_3 },
      srtpProfiles: this.suites.map((suite) => PROFILE_OF[suite]),
      // The server asks for the client's certificate: without it there is nothing to check.
      certificateRequest: true,
      extendedMasterSecret: true,
    };
    this.socket = options.role === 'client' ? new DtlsClient(socketOptions) : new DtlsServer(socketOptions);
    this.socket.onConnect.subscribe(() => this.onConnected());
    this.socket.onError.subscribe((error: unknown) => this.fail(`DTLS error: ${describe(error)}`));
    this.socket.onClose.subscribe(() => {
      if (this.agreed && !this.done) {
        this.done = true;
        this.emit('closed');
      } else {
        this.fail('the peer sent a DTLS alert during the handshake');
      }
    });
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // The server's clock runs from now too: a ClientHello that never comes is a failure as well.
    this.timer = setTimeout(() => this.fail(`no DTLS handshake within ${timeoutMs} ms`), timeoutMs);
  }

  get keys(): SrtpKeys | null {
    return this.agreed;
  }

  /** The client sends its ClientHello; a server waits for one (calling it is harmless). */
  start(): void {
    if (this.started || this.done || this.options.role !== 'client') return;
    this.started = true;
    (this.socket as DtlsClient).connect().catch((error: unknown) => this.fail(describe(error)));
  }

  /** A DTLS record from the peer (the session saw a first byte of 20–63). */
  handle(data: Buffer): void {
    if (this.done && !this.agreed) return;
    try {
      this.transport.onData(data, ['', 0]);
    } catch (error) {
      this.fail(`unreadable DTLS record: ${describe(error)}`);
    }
  }

  /** Stops the handshake or drops the association; nothing is sent or emitted afterwards. */
  close(): void {
    this.clearTimer();
    this.done = true;
    this.agreed = null;
    this.transport.closed = true;
    this.removeAllListeners();
  }

  private onConnected(): void {
    if (this.done) return;
    const certificate = this.socket.remoteCertificate;
    if (!certificate || !matchesFingerprint(Buffer.from(certificate), this.options.remoteFingerprints)) {
      this.fail("the peer's DTLS certificate does not match the fingerprint in its SDP");
      return;
    }
    const suite = this.suites.find((name) => PROFILE_OF[name] === this.socket.srtp.srtpProfile);
    if (!suite) {
      this.fail('the DTLS handshake agreed no SRTP protection profile we have');
      return;
    }
    const { key, salt } = KEY_AND_SALT[suite];
    const { localKey, localSalt, remoteKey, remoteSalt } = this.socket.extractSessionKeys(key, salt) as {
      localKey: Buffer;
      localSalt: Buffer;
      remoteKey: Buffer;
      remoteSalt: Buffer;
    };
    this.clearTimer();
    this.agreed = {
      suite,
      local: Buffer.concat([localKey, localSalt]),
      remote: Buffer.concat([remoteKey, remoteSalt]),
    };
    this.emit('keys', this.agreed);
  }

  private fail(message: string): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    this.transport.closed = true;
    this.emit('failed', message);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * werift-dtls's view of a socket. The session owns the real one; datagrams come in through
 * onData (werift replaces it with its own reader) and go out through the session's send.
 */
class WeriftTransport {
  readonly type = 'udp';
  readonly address = {} as AddressInfo;
  closed = false;
  onData: (data: Buffer, address: readonly [string, number]) => void = () => undefined;

  constructor(private readonly out: (data: Buffer) => void) {}

  send = async (data: Buffer): Promise<void> => {
    if (!this.closed) this.out(data);
  };

  close = async (): Promise<void> => {
    this.closed = true;
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
