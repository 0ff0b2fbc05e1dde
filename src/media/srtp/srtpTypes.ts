/** How a trunk wants its SIP leg's media keyed (config `sip.trunks[].media.encryption`). */
export type EncryptionMethod = 'none' | 'sdes' | 'dtls' | 'sdes_or_dtls';

/** What a leg's media actually used: reported on the call object and the room participant. */
export type MediaKeying = 'none' | 'sdes' | 'dtls';

/**
 * A trunk's media encryption policy, carried to the media session that answers or makes the
 * offer. `required` refuses (488, or media_error for an outbound answer) media that is not keyed
 * as asked; optional takes plain RTP from a peer that does not do SRTP.
 */
export interface EncryptionPolicy {
  method: EncryptionMethod;
  required: boolean;
}

export const NO_ENCRYPTION: EncryptionPolicy = { method: 'none', required: false };

/** SRTP crypto suites the gateway can key by SDES (RFC 4568 §6.2, RFC 7714 §12), best first. */
export type SrtpSuiteName = 'AES_CM_128_HMAC_SHA1_80' | 'AEAD_AES_128_GCM';

/** What was agreed for the stream, without key material (it crosses the worker channel). */
export interface NegotiatedEncryption {
  keying: MediaKeying;
  /** The SRTP crypto suite in use; null for plain RTP. */
  suite: SrtpSuiteName | null;
}

/**
 * SRTP master keys of one stream, however they were agreed (SDES or the DTLS exporter): ours (we
 * send with it, the peer decrypts) and the peer's. Each is the master key followed by the master
 * salt, as the SDES inline key parameter carries them.
 */
export interface SrtpKeys {
  suite: SrtpSuiteName;
  local: Buffer;
  remote: Buffer;
}

/** SDES keys also carry the a=crypto tag both sides refer to. */
export interface SdesKeys extends SrtpKeys {
  tag: number;
}
