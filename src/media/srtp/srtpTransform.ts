import { RtpHeader, SrtcpSession, SrtpSession } from 'werift-rtp';
import { SequenceUnwrapper } from '../rtp/sequenceUnwrapper.js';
import { ReplayWindow } from './replayWindow.js';
import { type SrtpSuite, suiteNamed } from './srtpSuites.js';
import type { SrtpKeys } from './srtpTypes.js';

/** Why an incoming packet was dropped: counted, and enough failures in a row end the call. */
export type UnprotectFailure = 'auth' | 'replay' | 'malformed';

export type Unprotected = { ok: true; packet: Buffer } | { ok: false; failure: UnprotectFailure };

const RTP_HEADER_BYTES = 12;
const SRTCP_INDEX_BYTES = 4;

/**
 * The SRTP/SRTCP transform of one stream (RFC 3711, RFC 7714), both directions: werift-rtp's
 * contexts do the cipher, the authentication tag and the rollover counter (node:crypto
 * underneath); this class adds what werift leaves to its user, the replay lists (§3.3.2), and
 * keeps one context per direction so a rekey of one side leaves the other running.
 */
export class SrtpTransform {
  private sendRtp: SrtpSession;
  private sendRtcp: SrtcpSession;
  private receiveRtp: SrtpSession;
  private receiveRtcp: SrtcpSession;
  private readonly suite: SrtpSuite;
  private rtpReplay = new Map<number, { window: ReplayWindow; sequence: SequenceUnwrapper }>();
  private rtcpReplay = new Map<number, ReplayWindow>();

  constructor(private keys: SrtpKeys) {
    const suite = suiteNamed(keys.suite);
    if (!suite) throw new Error(`unsupported SRTP suite ${keys.suite}`);
    this.suite = suite;
    [this.sendRtp, this.sendRtcp] = this.contexts(keys.local);
    [this.receiveRtp, this.receiveRtcp] = this.contexts(keys.remote);
  }

  get currentKeys(): SrtpKeys {
    return this.keys;
  }

  /**
   * New keys from a re-INVITE. A direction whose key is unchanged keeps its context, so its
   * rollover counter, SRTCP index and replay list go on; a changed key starts that direction
   * afresh (RFC 4568 §7.1.4: new key, new cryptographic context).
   */
  rekey(keys: SrtpKeys): void {
    if (keys.suite !== this.keys.suite) throw new Error('a suite change needs a new transform');
    if (!keys.local.equals(this.keys.local)) {
      [this.sendRtp, this.sendRtcp] = this.contexts(keys.local);
    }
    if (!keys.remote.equals(this.keys.remote)) {
      [this.receiveRtp, this.receiveRtcp] = this.contexts(keys.remote);
      this.rtpReplay = new Map();
      this.rtcpReplay = new Map();
    }
    this.keys = keys;
  }

  protectRtp(packet: Uint8Array): Buffer {
    const buffer = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const header = RtpHeader.deSerialize(buffer);
    return this.sendRtp.encrypt(buffer.subarray(header.payloadOffset), header);
  }

  protectRtcp(packet: Uint8Array): Buffer {
    return this.sendRtcp.encrypt(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
  }

  unprotectRtp(data: Buffer): Unprotected {
    if (data.length < RTP_HEADER_BYTES + this.tagBytes) return { ok: false, failure: 'malformed' };
    const ssrc = data.readUInt32BE(8);
    const sequenceNumber = data.readUInt16BE(2);
    let replay = this.rtpReplay.get(ssrc);
    const index = replay?.sequence.peek(sequenceNumber) ?? sequenceNumber;
    if (replay && !replay.window.accepts(index)) return { ok: false, failure: 'replay' };
    let packet: Buffer;
    try {
      packet = this.receiveRtp.decrypt(data);
    } catch {
      return { ok: false, failure: 'auth' };
    }
    if (!replay) {
      replay = { window: new ReplayWindow(), sequence: new SequenceUnwrapper() };
      this.rtpReplay.set(ssrc, replay);
    }
    replay.window.record(replay.sequence.unwrap(sequenceNumber));
    return { ok: true, packet };
  }

  unprotectRtcp(data: Buffer): Unprotected {
    const tail = this.tagBytes + SRTCP_INDEX_BYTES;
    if (data.length < 8 + tail) return { ok: false, failure: 'malformed' };
    const ssrc = data.readUInt32BE(4);
    const indexAt =
      this.suite.name === 'AEAD_AES_128_GCM' ? data.length - SRTCP_INDEX_BYTES : data.length - tail;
    const index = data.readUInt32BE(indexAt) & 0x7fffffff;
    const window = this.rtcpReplay.get(ssrc);
    if (window && !window.accepts(index)) return { ok: false, failure: 'replay' };
    let packet: Buffer;
    try {
      packet = this.receiveRtcp.decrypt(data);
    } catch {
      return { ok: false, failure: 'auth' };
    }
    if (window) window.record(index);
    else {
      const created = new ReplayWindow();
      created.record(index);
      this.rtcpReplay.set(ssrc, created);
    }
    return { ok: true, packet };
  }

  /** The authentication tag: 80 bits for AES-CM (RTP and RTCP), 128 for GCM (RFC 7714 §7). */
  private get tagBytes(): number {
    return this.suite.name === 'AEAD_AES_128_GCM' ? 16 : 10;
  }

  /**
   * werift's sessions hold both directions of a stream; each of ours is one direction, so both
   * of its sides get the same key: encrypt uses the local side, decrypt the remote one.
   */
  private contexts(key: Buffer): [SrtpSession, SrtcpSession] {
    const { keyBytes } = this.suite;
    const master = key.subarray(0, keyBytes);
    const salt = key.subarray(keyBytes);
    const config = {
      keys: {
        localMasterKey: master,
        localMasterSalt: salt,
        remoteMasterKey: master,
        remoteMasterSalt: salt,
      },
      profile: this.suite.profile,
    };
    return [new SrtpSession(config), new SrtcpSession(config)];
  }
}
