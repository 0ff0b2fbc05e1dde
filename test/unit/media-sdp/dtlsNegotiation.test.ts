import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encryptionRefusal } from '../../../src/media/sdp/offerEncryption.js';
import { SdpSession } from '../../../src/media/sdp/SdpSession.js';
import type { DtlsIceIdentity } from '../../../src/media/sdp/sdpTypes.js';
import type { EncryptionPolicy } from '../../../src/media/srtp/srtpTypes.js';

const PEER_FINGERPRINT =
  'sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:3F:B6:3B:A8:AE:26:2F:9A:A2:5E:6B';
const OUR_FINGERPRINT =
  '11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00';

const IDENTITY: DtlsIceIdentity = {
  fingerprint: { algorithm: 'sha-256', value: OUR_FINGERPRINT },
  ice: { ufrag: 'gwUf', pwd: 'gatewayIcePasswordOf24ch' },
};

/** An offer shaped like WhatsApp's SIP-mode DTLS offer (ice-lite, actpass, BUNDLE, rtcp-mux). */
function whatsappLikeOffer(options: { setup?: string; fingerprint?: string; ufrag?: string } = {}): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 157.240.0.10',
    's=-',
    't=0 0',
    'a=ice-lite',
    'a=group:BUNDLE audio',
    'm=audio 3480 UDP/TLS/RTP/SAVPF 111 126',
    'c=IN IP4 157.240.0.10',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 maxaveragebitrate=20000;maxplaybackrate=16000;useinbandfec=1',
    'a=rtpmap:126 telephone-event/8000',
    'a=ptime:20',
    'a=mid:audio',
    'a=rtcp-mux',
    `a=ice-ufrag:${options.ufrag ?? 'MetaUfrag'}`,
    'a=ice-pwd:MetaIcePasswordMetaIcePassword',
    `a=fingerprint:${options.fingerprint ?? PEER_FINGERPRINT}`,
    `a=setup:${options.setup ?? 'actpass'}`,
    'a=candidate:1 1 udp 2122260223 157.240.0.10 3480 typ host',
    'a=candidate:2 1 tcp 1518280447 157.240.0.10 443 typ host tcptype passive',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

const DTLS: EncryptionPolicy = { method: 'dtls', required: true };

function session(encryption: EncryptionPolicy, dtls: DtlsIceIdentity | null = IDENTITY): SdpSession {
  return new SdpSession({
    codecs: ['opus', 'PCMU', 'telephone-event'],
    address: '192.0.2.1',
    rtpPort: 20000,
    encryption,
    ...(dtls ? { dtls } : {}),
  });
}

describe('DTLS-SRTP offer/answer', () => {
  it('answers a WhatsApp-like offer as the active DTLS side and the controlling ICE agent', () => {
    const sdp = session(DTLS);
    const answer = sdp.answerOffer(whatsappLikeOffer());
    expect(answer.media.encryption).toEqual({ keying: 'dtls', suite: null });
    expect(answer.media.profile).toBe('UDP/TLS/RTP/SAVPF');
    expect(answer.sdp).toContain('m=audio 20000 UDP/TLS/RTP/SAVPF 111 126');
    // WhatsApp pairs Opus with telephone-event/8000 only: taken, so DTMF works both ways.
    expect(answer.media.telephoneEvent).toEqual({ payloadType: 126, clockRate: 8000, events: '0-16' });
    expect(answer.sdp).toContain('a=rtpmap:126 telephone-event/8000');
    expect(answer.sdp).toContain('a=setup:active');
    expect(answer.sdp).toContain(`a=fingerprint:sha-256 ${OUR_FINGERPRINT}`);
    expect(answer.sdp).toContain('a=ice-ufrag:gwUf');
    expect(answer.sdp).toContain('a=ice-pwd:gatewayIcePasswordOf24ch');
    expect(answer.sdp).toMatch(/a=candidate:\S+ 1 udp \d+ 192\.0\.2\.1 20000 typ host/);
    expect(answer.sdp).toContain('a=end-of-candidates');
    expect(answer.sdp).toContain('a=rtcp-mux');
    expect(answer.sdp).toContain('a=mid:audio');
    expect(answer.sdp).toContain('a=group:BUNDLE audio');
    expect(answer.sdp).not.toContain('a=crypto');
    expect(answer.sdp).not.toContain('a=ice-lite');

    const agreement = sdp.dtls;
    expect(agreement?.dtlsRole).toBe('client');
    expect(agreement?.iceRole).toBe('controlling');
    expect(agreement?.remote.ice.lite).toBe(true);
    expect(agreement?.remote.ice.credentials).toEqual({
      ufrag: 'MetaUfrag',
      pwd: 'MetaIcePasswordMetaIcePassword',
    });
    // The TCP candidate is not one we can use.
    expect(agreement?.remote.ice.candidates.map((c) => `${c.address}:${c.port}`)).toEqual([
      '157.240.0.10:3480',
    ]);
    expect(agreement?.remote.fingerprints[0]?.algorithm).toBe('sha-256');
  });

  it('is the DTLS server when the offerer says active, and controlled against a full ICE offerer', () => {
    const sdp = session(DTLS);
    const full = whatsappLikeOffer({ setup: 'active' }).replace('a=ice-lite\r\n', '');
    const answer = sdp.answerOffer(full);
    expect(answer.sdp).toContain('a=setup:passive');
    expect(sdp.dtls?.dtlsRole).toBe('server');
    expect(sdp.dtls?.iceRole).toBe('controlled');
  });

  it('keeps its DTLS role and ICE credentials across a re-offer from the same peer', () => {
    const sdp = session(DTLS);
    const first = sdp.answerOffer(whatsappLikeOffer());
    const again = sdp.answerOffer(whatsappLikeOffer().replace('o=- 1 1', 'o=- 1 2'));
    expect(again.sdp).toBe(first.sdp);
    expect(sdp.dtls?.dtlsRole).toBe('client');
  });

  it('refuses DTLS offers it cannot take, with the reason', () => {
    const missing = (drop: string): string =>
      whatsappLikeOffer()
        .split('\r\n')
        .filter((line) => !line.startsWith(drop))
        .join('\r\n');
    expect(() => session(DTLS).answerOffer(missing('a=fingerprint'))).toThrow(/fingerprint/);
    expect(() => session(DTLS).answerOffer(missing('a=ice-ufrag'))).toThrow(/ice-ufrag/);
    expect(() => session(DTLS).answerOffer(missing('a=rtcp-mux'))).toThrow(/rtcp-mux/);
    expect(() => session(DTLS).answerOffer(missing('a=candidate:1'))).toThrow(/candidate/);
    expect(() => session(DTLS).answerOffer(whatsappLikeOffer({ setup: 'holdconn' }))).toThrow(/setup/);
    expect(() => session({ method: 'sdes', required: true }).answerOffer(whatsappLikeOffer())).toThrow(
      /does not key media by DTLS/,
    );
    expect(() => session(DTLS, null).answerOffer(whatsappLikeOffer())).toThrow(/not available/);
  });

  it('refuses an offer before ringing when the policy cannot meet it', () => {
    expect(encryptionRefusal(whatsappLikeOffer(), DTLS)).toBeNull();
    expect(encryptionRefusal(whatsappLikeOffer(), { method: 'sdes_or_dtls', required: true })).toBeNull();
    expect(encryptionRefusal(whatsappLikeOffer(), { method: 'none', required: false })).toMatch(/DTLS/);
    const plain = whatsappLikeOffer().replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP');
    expect(encryptionRefusal(plain, DTLS)).toMatch(/requires SRTP/);
  });

  it('offers DTLS-SRTP over ICE as actpass, and takes an answer that picks a role', () => {
    const sdp = session(DTLS);
    const offer = sdp.createOffer().sdp;
    expect(offer).toContain('m=audio 20000 UDP/TLS/RTP/SAVPF');
    expect(offer).toContain('a=setup:actpass');
    expect(offer).toContain('a=rtcp-mux');
    expect(offer).toContain('a=mid:0');
    expect(offer).toContain('a=group:BUNDLE 0');
    expect(offer).not.toContain('a=crypto');

    const answer = whatsappLikeOffer({ setup: 'passive' }).replace('a=mid:audio', 'a=mid:0');
    const media = sdp.applyAnswer(answer);
    expect(media.encryption.keying).toBe('dtls');
    expect(sdp.dtls?.dtlsRole).toBe('client');
    expect(sdp.dtls?.iceRole).toBe('controlling');

    // A hold re-offer repeats the role we settled on, not actpass.
    const hold = sdp.createOffer({ direction: 'sendonly' }).sdp;
    expect(hold).toContain('a=setup:active');
    expect(hold).toContain('a=ice-ufrag:gwUf');
  });

  it('fails an answer to its DTLS offer that is not DTLS', () => {
    const sdp = session(DTLS);
    sdp.createOffer();
    const sdesAnswer = whatsappLikeOffer().replace('UDP/TLS/RTP/SAVPF', 'RTP/SAVP');
    expect(() => sdp.applyAnswer(sdesAnswer)).toThrow(/does not key media by SDES/);
  });

  it('offers DTLS for sdes_or_dtls, since one m= line carries one keying', () => {
    const offer = session({ method: 'sdes_or_dtls', required: true }).createOffer().sdp;
    expect(offer).toContain('UDP/TLS/RTP/SAVPF');
  });

  it("reads baresip's offer: session-level ICE and fingerprint, IPv4 and IPv6 host candidates", () => {
    const offer = readFileSync('test/fixtures/sdp/baresip-dtls-ice-rtcpmux-offer.sdp', 'utf8');
    const sdp = new SdpSession({
      codecs: ['PCMU', 'telephone-event'],
      address: '127.0.0.1',
      rtpPort: 20000,
      encryption: DTLS,
      dtls: IDENTITY,
    });
    const answer = sdp.answerOffer(offer);
    expect(answer.sdp).toContain('a=setup:active');
    expect(sdp.dtls?.remote.fingerprints[0]?.algorithm).toBe('sha-256');
    expect(sdp.dtls?.remote.ice.lite).toBe(false);
    expect(sdp.dtls?.iceRole).toBe('controlled');
    expect(sdp.dtls?.remote.ice.candidates.map((c) => c.address)).toEqual(['192.0.2.2', 'fd00::2']);
    // baresip offers no mid: nor do we answer one, and there is no BUNDLE group to name it in.
    expect(answer.sdp).not.toContain('a=mid');
    expect(answer.sdp).not.toContain('a=group');
  });
});
