import {
  CipherContext,
  HashAlgorithm,
  NamedCurveAlgorithm,
  SignatureAlgorithm,
} from 'werift-dtls/lib/dtls/src/index.js';
import { fingerprintOf } from './dtlsFingerprint.js';
import type { DtlsCertificate } from './dtlsTypes.js';

/**
 * A fresh self-signed ECDSA P-256 certificate (werift-dtls makes it with WebCrypto). DTLS-SRTP
 * peers trust it by the fingerprint in our SDP, not by a CA (RFC 5763 §5), so one per worker
 * process is enough and it never touches the disk.
 */
export async function createDtlsCertificate(): Promise<DtlsCertificate> {
  const { certPem, keyPem } = await CipherContext.createSelfSignedCertificateWithKey(
    { hash: HashAlgorithm.sha256_4, signature: SignatureAlgorithm.ecdsa_3 },
    NamedCurveAlgorithm.secp256r1_23,
  );
  const der = derOf(certPem);
  return { certPem, keyPem, der, fingerprint: fingerprintOf(der, 'sha-256') };
}

function derOf(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}
