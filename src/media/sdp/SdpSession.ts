import { randomInt } from 'node:crypto';
import { answerSetup, dtlsRoleFor, roleFromAnswer } from '../dtls/dtlsSetup.js';
import { hostCandidate } from '../ice/iceCandidate.js';
import { type CryptoLine, cryptoLine, newMasterKey, type UsableCrypto } from '../srtp/sdesCrypto.js';
import { SRTP_SUITES } from '../srtp/srtpSuites.js';
import { type EncryptionPolicy, NO_ENCRYPTION, type SdesKeys } from '../srtp/srtpTypes.js';
import {
  CODECS,
  DEFAULT_PTIME_MS,
  OFFER_TELEPHONE_EVENT_PAYLOAD_TYPES,
  OPUS_LOCAL_FMTP,
  TELEPHONE_EVENTS,
} from './codecCatalog.js';
import type { LocalDtlsIce, RemoteDtlsIce } from './dtlsIceSdp.js';
import { type AudioNegotiation, intersectDirections, negotiateAudio } from './negotiateAudio.js';
import { parseSdp } from './parseSdp.js';
import { SdpNotAcceptableError, SdpStateError } from './sdpErrors.js';
import type {
  AnswerResult,
  AudioCodecName,
  CodecPreference,
  DtlsIceAgreement,
  LocalDescription,
  LocalOfferOptions,
  MediaDirection,
  NegotiatedAudio,
  SdpSessionOptions,
} from './sdpTypes.js';
import { type LocalAudioSection, type LocalFormat, type RejectedSection, writeSdp } from './writeSdp.js';

/** Opus fmtp we answer and offer: we send mono (a room mix) and prefer to receive mono. */
const OPUS_FMTP = `${OPUS_LOCAL_FMTP};stereo=0;sprop-stereo=0`;

/**
 * Offer/answer state of one call's audio stream (RFC 3264), for its whole life: the first
 * offer or answer, then every re-INVITE (hold, resume, codec change, session refresh).
 *
 * The local port never changes within a session, and o= version rises by one each time the
 * body we send differs from the previous one (RFC 3264 §8); an unchanged re-offer such as a
 * session refresh gets the very same answer back, version included.
 */
export class SdpSession {
  private readonly username: string;
  private readonly sessionName: string;
  private readonly sessionId: string;
  private version = 0;
  private lastBody: string | null = null;
  private lastSdp: string | null = null;
  private current: NegotiatedAudio | null = null;
  /** What we want regardless of the peer: sendonly while we hold the peer. */
  private localDirection: MediaDirection = 'sendrecv';
  private pendingOffer: {
    codecs: CodecPreference[];
    direction: MediaDirection;
    /** Our SDES key per offered a=crypto tag: the answer picks one by its tag. */
    keys: Map<number, { suite: string; key: Buffer }>;
    /** We offered DTLS-SRTP, so the answer must take it. */
    dtls: boolean;
  } | null = null;
  private readonly policy: EncryptionPolicy;
  /** The SDES keys in use, or null for plain RTP. Never leaves the worker. */
  private sdes: SdesKeys | null = null;
  /** The DTLS-SRTP transport agreed, or null when the stream is not keyed by DTLS. */
  private dtlsAgreement: DtlsIceAgreement | null = null;

  constructor(private readonly options: SdpSessionOptions) {
    this.policy = options.encryption ?? NO_ENCRYPTION;
    this.username = options.username ?? '-';
    this.sessionName = options.sessionName ?? '-';
    this.sessionId = options.sessionId ?? String(randomInt(1, 2 ** 47));
  }

  get rtpPort(): number {
    return this.options.rtpPort;
  }

  /** The agreed stream, or null before the first complete exchange. */
  get media(): NegotiatedAudio | null {
    return this.current;
  }

  /** The SRTP keys of the agreed stream (null: plain RTP), for the media session's transform. */
  get srtpKeys(): SdesKeys | null {
    return this.sdes;
  }

  /** The peer's ICE and DTLS parameters and our roles, for the session's transport (null: no DTLS). */
  get dtls(): DtlsIceAgreement | null {
    return this.dtlsAgreement;
  }

  /** True while an offer of ours waits for its answer. */
  get awaitingAnswer(): boolean {
    return this.pendingOffer !== null;
  }

  /**
   * Answers a peer's offer (initial INVITE or re-INVITE). Throws SdpMalformedError or
   * SdpNotAcceptableError (both 488) and then leaves the session as it was.
   */
  answerOffer(offerSdp: string): AnswerResult {
    if (this.pendingOffer)
      throw new SdpStateError('an offer of ours is still waiting for its answer (glare)');
    const offer = parseSdp(offerSdp);
    const { mediaIndex, media, crypto, dtls } = negotiateAudio(
      offer,
      this.options.codecs,
      'ours',
      this.policy,
    );
    const sdes = crypto ? this.answerKeys(crypto) : null;
    const agreement = dtls ? this.answerDtls(dtls) : null;
    const agreed: NegotiatedAudio = {
      ...media,
      direction: intersectDirections(media.direction, this.localDirection),
    };
    const formats: LocalFormat[] = [this.formatOf(agreed.codec.name, agreed.codec.payloadType)];
    if (agreed.telephoneEvent) {
      const { payloadType, clockRate, events } = agreed.telephoneEvent;
      formats.push(telephoneEventFormat(payloadType, clockRate, events));
    }
    const sections = offer.media.map((section, index): LocalAudioSection | RejectedSection =>
      index === mediaIndex
        ? {
            kind: 'audio',
            port: this.options.rtpPort,
            profile: agreed.profile,
            formats,
            ptimeMs: agreed.ptimeMs,
            direction: agreed.direction,
            rtcpMux: agreed.rtcpMux,
            crypto: sdes && crypto ? [cryptoLine(sdes.tag, crypto.suite, sdes.local)] : [],
            dtlsIce: agreement ? this.localDtlsIce(agreement.setup, agreement.remote.mid) : null,
          }
        : {
            kind: 'rejected',
            type: section.type,
            protocol: section.protocol,
            payloads: String(section.payloads ?? ''),
          },
    );
    const description = this.describe(sections);
    this.current = agreed;
    this.sdes = sdes;
    this.dtlsAgreement = agreement;
    return { ...description, media: agreed };
  }

  /**
   * Our offer: every configured codec for a new outbound call; once a stream is agreed (a
   * re-INVITE for hold or resume) only the agreed codec, so the call does not switch codecs.
   */
  createOffer(options: LocalOfferOptions = {}): LocalDescription {
    if (this.pendingOffer) throw new SdpStateError('an offer of ours is already waiting for its answer');
    // Without a direction the offer keeps what we have (a session refresh must not end our hold).
    const direction = options.direction ?? this.localDirection;
    const current = this.current;
    const formats: LocalFormat[] = [];
    const codecs: CodecPreference[] = [];
    if (current) {
      formats.push(this.formatOf(current.codec.name, current.codec.payloadType));
      codecs.push(current.codec.name);
      if (current.telephoneEvent) {
        const { payloadType, clockRate, events } = current.telephoneEvent;
        formats.push(telephoneEventFormat(payloadType, clockRate, events));
        codecs.push('telephone-event');
      }
    } else {
      const audio = this.options.codecs.filter((name): name is AudioCodecName => name !== 'telephone-event');
      for (const name of audio) formats.push(this.formatOf(name, CODECS[name].offerPayloadType));
      codecs.push(...audio);
      if (this.options.codecs.includes('telephone-event')) {
        const rates = [...new Set(audio.map((name) => CODECS[name].clockRate))];
        for (const rate of rates) {
          const payloadType = OFFER_TELEPHONE_EVENT_PAYLOAD_TYPES.get(rate);
          if (payloadType !== undefined) formats.push(telephoneEventFormat(payloadType, rate));
        }
        codecs.push('telephone-event');
      }
    }
    if (formats.length === 0) throw new SdpNotAcceptableError('no audio codec configured');
    const { profile, crypto, keys, dtlsIce } = this.offerKeying();
    const description = this.describe([
      {
        kind: 'audio',
        port: this.options.rtpPort,
        profile,
        crypto,
        dtlsIce,
        formats,
        ptimeMs: current?.ptimeMs ?? DEFAULT_PTIME_MS,
        direction,
        // Offered from the start: peers that do not know it ignore it, and RTP+1 stays reserved.
        rtcpMux: current?.rtcpMux ?? true,
      },
    ]);
    this.pendingOffer = { codecs, direction, keys, dtls: dtlsIce !== null };
    return description;
  }

  /**
   * Applies the peer's answer to our outstanding offer. The answerer's first listed codec that
   * we offered is the one it sends, so it is the one we use.
   */
  /**
   * Applies the peer's answer to our pending offer. A provisional answer (the SDP of a 183 without
   * 100rel) starts media early but leaves the offer pending, since the 2xx carries the answer that
   * counts (RFC 3261 §13.2.1); usually the same.
   */
  applyAnswer(answerSdp: string, options: { provisional?: boolean } = {}): NegotiatedAudio {
    const pending = this.pendingOffer;
    if (!pending) throw new SdpStateError('no offer of ours is waiting for an answer');
    // Whatever happens the offer is settled: a bad answer ends this exchange (RFC 3264 §6).
    if (!options.provisional) this.pendingOffer = null;
    const answer = parseSdp(answerSdp);
    const negotiated = negotiateAudio(answer, pending.codecs, 'theirs', this.answerPolicy(pending));
    const { mediaIndex, media } = negotiated;
    if (mediaIndex !== 0) throw new SdpNotAcceptableError('the answer does not accept our audio stream');
    const sdes = this.keysFromAnswer(negotiated, pending.keys);
    const agreement = negotiated.dtls ? this.dtlsFromAnswer(negotiated.dtls) : null;
    const agreed: NegotiatedAudio = {
      ...media,
      direction: intersectDirections(media.direction, pending.direction),
    };
    this.localDirection = pending.direction;
    this.current = agreed;
    this.sdes = sdes;
    this.dtlsAgreement = agreement;
    return agreed;
  }

  /**
   * Our key for answering the peer's crypto line. A re-offer that keeps the suite keeps our key
   * (and so the sending context); a new suite, or a first answer, gets a fresh key.
   */
  private answerKeys(crypto: UsableCrypto): SdesKeys {
    const previous = this.sdes;
    const local =
      previous && previous.suite === crypto.suite.name ? previous.local : newMasterKey(crypto.suite);
    return { suite: crypto.suite.name, tag: crypto.tag, local, remote: crypto.key };
  }

  /**
   * The profile and crypto lines of our offer. Once keyed, a re-offer repeats the agreed line
   * (same tag, suite and key: RFC 4568 §7.1.4 keeps the context). A first offer under an SDES
   * policy lists every suite with its own key: RTP/SAVP when SRTP is required, RTP/AVP with
   * a=crypto (best-effort SRTP) when plain RTP is acceptable too.
   */
  private offerKeying(): {
    profile: LocalAudioSection['profile'];
    crypto: CryptoLine[];
    keys: Map<number, { suite: string; key: Buffer }>;
    dtlsIce: LocalDtlsIce | null;
  } {
    const current = this.current;
    const keys = new Map<number, { suite: string; key: Buffer }>();
    if (current) {
      const agreement = this.dtlsAgreement;
      if (agreement) {
        // A re-offer keeps the association: same credentials, fingerprint and DTLS role.
        const dtlsIce = this.localDtlsIce(agreement.setup, agreement.remote.mid);
        return { profile: current.profile, crypto: [], keys, dtlsIce };
      }
      const sdes = this.sdes;
      if (!sdes) return { profile: current.profile, crypto: [], keys, dtlsIce: null };
      const suite = SRTP_SUITES.find((candidate) => candidate.name === sdes.suite);
      if (!suite) throw new SdpStateError(`unknown SRTP suite ${sdes.suite}`);
      keys.set(sdes.tag, { suite: sdes.suite, key: sdes.local });
      const crypto = [cryptoLine(sdes.tag, suite, sdes.local)];
      return { profile: current.profile, crypto, keys, dtlsIce: null };
    }
    const { method, required } = this.policy;
    if (method === 'dtls' || method === 'sdes_or_dtls') {
      // One m= line cannot offer both keyings; DTLS is what WhatsApp and WebRTC peers default to.
      if (!this.options.dtls)
        throw new SdpNotAcceptableError('DTLS-SRTP is not available in this media worker');
      return { profile: 'UDP/TLS/RTP/SAVPF', crypto: [], keys, dtlsIce: this.localDtlsIce('actpass', '0') };
    }
    if (method === 'none') return { profile: 'RTP/AVP', crypto: [], keys, dtlsIce: null };
    const crypto = SRTP_SUITES.map((suite, index) => {
      const key = newMasterKey(suite);
      keys.set(index + 1, { suite: suite.name, key });
      return cryptoLine(index + 1, suite, key);
    });
    return { profile: required ? 'RTP/SAVP' : 'RTP/AVP', crypto, keys, dtlsIce: null };
  }

  /**
   * Reading an answer: DTLS if we offered it (nothing else can answer UDP/TLS), SDES only if we
   * offered keys, required as our own policy says.
   */
  private answerPolicy(pending: { keys: Map<number, unknown>; dtls: boolean }): EncryptionPolicy {
    if (pending.dtls) return { method: 'dtls', required: true };
    if (pending.keys.size === 0) return { method: 'none', required: false };
    return this.current ? { method: 'sdes', required: this.sdes !== null } : this.policy;
  }

  /**
   * Our DTLS role answering an offer. A re-offer from the same certificate whose a=setup still
   * fits our role keeps it, so the association (and its keys) goes on; otherwise the answerer is
   * active, as RFC 5763 §5 recommends. ICE roles stay as first agreed (RFC 8445 §6.1.1): against
   * an ice-lite peer we are always the controlling agent.
   */
  private answerDtls(remote: RemoteDtlsIce): DtlsIceAgreement {
    if (!this.options.dtls)
      throw new SdpNotAcceptableError('DTLS-SRTP is not available in this media worker');
    const previous = this.dtlsAgreement;
    const keeps =
      previous !== null &&
      sameFingerprints(previous.remote, remote) &&
      (remote.setup === 'actpass' || remote.setup === (previous.setup === 'active' ? 'passive' : 'active'));
    const setup = keeps && previous ? previous.setup : answerSetup(remote.setup);
    const iceRole = remote.ice.lite ? 'controlling' : (previous?.iceRole ?? 'controlled');
    return { remote, setup, dtlsRole: dtlsRoleFor(setup), iceRole };
  }

  /** The answer's a=setup decides our DTLS role; as the offerer we control ICE. */
  private dtlsFromAnswer(remote: RemoteDtlsIce): DtlsIceAgreement {
    if (remote.setup !== 'active' && remote.setup !== 'passive') {
      throw new SdpNotAcceptableError(`the answer's a=setup:${remote.setup} does not pick a DTLS role`);
    }
    const dtlsRole = roleFromAnswer(remote.setup);
    return {
      remote,
      setup: dtlsRole === 'client' ? 'active' : 'passive',
      dtlsRole,
      iceRole: this.dtlsAgreement?.iceRole ?? 'controlling',
    };
  }

  private localDtlsIce(setup: LocalDtlsIce['setup'], mid: string | null): LocalDtlsIce {
    const identity = this.options.dtls;
    if (!identity) throw new SdpStateError('DTLS-SRTP needs the worker certificate');
    return {
      ice: identity.ice,
      candidates: [hostCandidate(this.options.address, this.options.rtpPort)],
      fingerprint: identity.fingerprint,
      setup,
      mid,
    };
  }

  /** The answer's crypto line must name one of our offered tags with the same suite. */
  private keysFromAnswer(
    negotiated: AudioNegotiation,
    offered: Map<number, { suite: string; key: Buffer }>,
  ): SdesKeys | null {
    const crypto = negotiated.crypto;
    if (!crypto) return null;
    const ours = offered.get(crypto.tag);
    if (!ours || ours.suite !== crypto.suite.name) {
      throw new SdpNotAcceptableError(
        `the answer's a=crypto tag ${crypto.tag} (${crypto.suite.name}) is not one we offered`,
      );
    }
    return { suite: crypto.suite.name, tag: crypto.tag, local: ours.key, remote: crypto.key };
  }

  private formatOf(name: AudioCodecName, payloadType: number): LocalFormat {
    const definition = CODECS[name];
    return {
      payloadType,
      encodingName: definition.encodingName,
      clockRate: definition.clockRate,
      channels: definition.channels,
      fmtp: name === 'opus' ? OPUS_FMTP : null,
    };
  }

  private describe(sections: readonly (LocalAudioSection | RejectedSection)[]): LocalDescription {
    const write = (version: number): string =>
      writeSdp(
        {
          username: this.username,
          sessionId: this.sessionId,
          version,
          address: this.options.address,
          sessionName: this.sessionName,
        },
        sections,
      );
    // The body is compared with the version fixed, so only a real change bumps it.
    const body = write(0);
    if (body === this.lastBody && this.lastSdp !== null) return { sdp: this.lastSdp, version: this.version };
    this.version += 1;
    this.lastBody = body;
    this.lastSdp = write(this.version);
    return { sdp: this.lastSdp, version: this.version };
  }
}

function telephoneEventFormat(
  payloadType: number,
  clockRate: number,
  events = TELEPHONE_EVENTS,
): LocalFormat {
  return { payloadType, encodingName: 'telephone-event', clockRate, channels: 1, fmtp: events };
}

function sameFingerprints(a: RemoteDtlsIce, b: RemoteDtlsIce): boolean {
  return a.fingerprints.some((mine) =>
    b.fingerprints.some((theirs) => mine.algorithm === theirs.algorithm && mine.value === theirs.value),
  );
}
