/** Our end of the DTLS handshake: the client sends the ClientHello (a=setup:active). */
export type DtlsRole = 'client' | 'server';

/** RFC 4145 a=setup values as RFC 5763 uses them for DTLS. */
export type SetupAttribute = 'actpass' | 'active' | 'passive' | 'holdconn';

/** Hash functions a=fingerprint may name (RFC 8122 §5, the ones node:crypto has). */
export type FingerprintAlgorithm = 'sha-1' | 'sha-224' | 'sha-256' | 'sha-384' | 'sha-512';

/** One a=fingerprint line: the hash of a certificate in DER, uppercase hex pairs joined by colons. */
export interface DtlsFingerprint {
  algorithm: FingerprintAlgorithm;
  value: string;
}

/** A self-signed certificate a worker presents in every DTLS handshake, and its sha-256 fingerprint. */
export interface DtlsCertificate {
  certPem: string;
  keyPem: string;
  der: Buffer;
  fingerprint: DtlsFingerprint;
}

/** An a=setup value that cannot lead to a DTLS association (holdconn, or a role clash). */
export class DtlsSetupError extends Error {
  override readonly name = 'DtlsSetupError';
}
