import { describe, expect, it } from 'vitest';
import { SdpSession } from '../../../src/media/sdp/SdpSession.js';
import type { EncryptionPolicy } from '../../../src/media/srtp/srtpTypes.js';

const KEY_80 = Buffer.alloc(30, 7).toString('base64');
const KEY_80_NEW = Buffer.alloc(30, 9).toString('base64');
const KEY_GCM = Buffer.alloc(28, 3).toString('base64');

function offer(profile: string, crypto: string[], version = 1): string {
  return [
    'v=0',
    `o=peer 1 ${version} IN IP4 192.0.2.10`,
    's=-',
    'c=IN IP4 192.0.2.10',
    't=0 0',
    `m=audio 40000 ${profile} 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    ...crypto,
    'a=sendrecv',
    '',
  ].join('\r\n');
}

function session(encryption: EncryptionPolicy): SdpSession {
  return new SdpSession({
    codecs: ['PCMU', 'telephone-event'],
    address: '192.0.2.1',
    rtpPort: 20000,
    encryption,
  });
}

const SDES_REQUIRED: EncryptionPolicy = { method: 'sdes', required: true };
const SDES_OPTIONAL: EncryptionPolicy = { method: 'sdes', required: false };

describe('SDES offer/answer', () => {
  it('answers RTP/SAVP with the first suite it has, under a fresh key of its own', () => {
    const sdp = session(SDES_REQUIRED);
    const answer = sdp.answerOffer(
      offer('RTP/SAVP', [
        `a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${KEY_80}`,
        `a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}|2^31`,
      ]),
    );
    expect(answer.sdp).toContain('m=audio 20000 RTP/SAVP 0 101');
    const line = /a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:(\S+)/.exec(answer.sdp);
    expect(line).not.toBeNull();
    expect(line?.[1]).not.toBe(KEY_80);
    expect(answer.media.encryption).toEqual({ keying: 'sdes', suite: 'AES_CM_128_HMAC_SHA1_80' });
    expect(sdp.srtpKeys?.remote.toString('base64')).toBe(KEY_80);
  });

  it('takes AEAD_AES_128_GCM with its 28-byte key', () => {
    const answer = session(SDES_REQUIRED).answerOffer(
      offer('RTP/SAVP', [`a=crypto:5 AEAD_AES_128_GCM inline:${KEY_GCM}`]),
    );
    expect(answer.media.encryption.suite).toBe('AEAD_AES_128_GCM');
    expect(answer.sdp).toMatch(/a=crypto:5 AEAD_AES_128_GCM inline:\S+/);
  });

  it.each([
    [SDES_REQUIRED, offer('RTP/AVP', []), /requires SRTP/],
    [
      SDES_REQUIRED,
      offer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${KEY_80}`]),
      /no supported SRTP crypto suite/,
    ],
    [
      SDES_REQUIRED,
      offer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}|2^20|1:4`]),
      /no supported/,
    ],
    [
      SDES_REQUIRED,
      offer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_GCM}`]),
      /no supported/,
    ],
    [
      { method: 'none', required: false } as EncryptionPolicy,
      offer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`]),
      /does not key media by SDES/,
    ],
  ])('refuses what the policy cannot take (%#)', (policy, text, message) => {
    expect(() => session(policy).answerOffer(text)).toThrow(message);
  });

  it('optional: plain RTP stays plain, RTP/AVP with a=crypto is keyed', () => {
    expect(session(SDES_OPTIONAL).answerOffer(offer('RTP/AVP', [])).media.encryption.keying).toBe('none');
    const keyed = session(SDES_OPTIONAL).answerOffer(
      offer('RTP/AVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`]),
    );
    expect(keyed.media.encryption.keying).toBe('sdes');
    expect(keyed.sdp).toContain('RTP/AVP 0 101');
  });

  it('a re-offer with the same key keeps our key; a new peer key is taken, ours stays', () => {
    const sdp = session(SDES_REQUIRED);
    const first = sdp.answerOffer(offer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`]));
    const ours = sdp.srtpKeys?.local.toString('base64');
    const again = sdp.answerOffer(
      offer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`], 2),
    );
    expect(again.sdp).toBe(first.sdp);
    sdp.answerOffer(offer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80_NEW}`], 3));
    expect(sdp.srtpKeys?.remote.toString('base64')).toBe(KEY_80_NEW);
    expect(sdp.srtpKeys?.local.toString('base64')).toBe(ours);
  });

  it('offers every suite, required as RTP/SAVP, optional as RTP/AVP; the answer picks by tag', () => {
    const required = session(SDES_REQUIRED).createOffer().sdp;
    expect(required).toContain('RTP/SAVP');
    expect(required).toMatch(
      /a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\S{40}\r\na=crypto:2 AEAD_AES_128_GCM inline:\S+/,
    );
    const sdp = session(SDES_OPTIONAL);
    const ourOffer = sdp.createOffer().sdp;
    expect(ourOffer).toContain('m=audio 20000 RTP/AVP');
    const tag2 = /a=crypto:2 AEAD_AES_128_GCM inline:(\S+)/.exec(ourOffer)?.[1];
    const media = sdp.applyAnswer(offer('RTP/AVP', [`a=crypto:2 AEAD_AES_128_GCM inline:${KEY_GCM}`]));
    expect(media.encryption).toEqual({ keying: 'sdes', suite: 'AEAD_AES_128_GCM' });
    expect(sdp.srtpKeys?.local.toString('base64')).toBe(tag2);
    // Hold re-offer: the same single line, same key.
    expect(sdp.createOffer({ direction: 'sendonly' }).sdp).toContain(
      `a=crypto:2 AEAD_AES_128_GCM inline:${tag2}`,
    );
  });

  it('an answer without keys fails a required offer, and a tag we never offered is refused', () => {
    const required = session(SDES_REQUIRED);
    required.createOffer();
    expect(() => required.applyAnswer(offer('RTP/AVP', []))).toThrow(/requires SRTP/);
    const other = session(SDES_REQUIRED);
    other.createOffer();
    expect(() =>
      other.applyAnswer(offer('RTP/SAVP', [`a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`])),
    ).toThrow(/not one we offered/);
  });
});
