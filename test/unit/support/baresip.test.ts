import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BaresipOptions, baresipAccount, baresipConfig, parseSipTrace } from '../../support/baresip.js';

const PORTS = { dir: '/tmp/b', sipPort: 5060, controlPort: 4444, rtpBase: 10000 };
const base: BaresipOptions = { mediaenc: null, codec: 'PCMU', toneHz: 1000 };
const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/sdp/${name}`, import.meta.url), 'utf8');

describe('baresip launcher config', () => {
  it('keeps the SDES account as it was', () => {
    expect(baresipAccount({ ...base, mediaenc: 'srtp-mand', autoAnswer: true, user: '+1555' }, 5060)).toBe(
      '<sip:+1555@127.0.0.1:5060>;regint=0;mediaenc=srtp-mand;answermode=auto;audio_codecs=PCMU\n',
    );
    const config = baresipConfig({ ...base, mediaenc: 'srtp-mand' }, PORTS).split('\n');
    expect(config).toContain('module srtp.so');
    expect(config).toContain('net_interface 127.0.0.1');
    expect(config).toContain('module_app account.so');
    expect(config).toContain('rtcp_mux no');
    expect(config).not.toContain('module dtls_srtp.so');
    expect(config).not.toContain('module ice.so');
  });

  it('asks for DTLS-SRTP and ICE on the account and loads their modules', () => {
    const options: BaresipOptions = { ...base, mediaenc: 'dtls_srtp', medianat: 'ice', rtcpMux: true };
    expect(baresipAccount(options, 5060)).toBe(
      '<sip:far@127.0.0.1:5060>;regint=0;mediaenc=dtls_srtp;medianat=ice;audio_codecs=PCMU\n',
    );
    const config = baresipConfig(options, PORTS).split('\n');
    expect(config).toContain('module dtls_srtp.so');
    expect(config).toContain('module ice.so');
    expect(config).toContain('rtcp_mux yes');
    // Modules before the account app, which sets the account's mediaenc and medianat up.
    expect(config.indexOf('module ice.so')).toBeLessThan(config.indexOf('module_app account.so'));
  });
});

describe('parseSipTrace', () => {
  it('finds each traced message, byte for byte, with its body', () => {
    const offer = fixture('baresip-dtls-ice-offer.sdp');
    const invite = [
      'INVITE sip:callee@127.0.0.1:46738 SIP/2.0',
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(offer)}`,
      '',
      offer,
    ].join('\r\n');
    const ringing = 'SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n\r\n';
    const output = [
      "call: media-nat 'ice' established/gathered\n",
      `\x1b[36;1m#\nUDP 127.0.0.1:39194 -> 127.0.0.1:46738\n${invite}\x1b[;m\n`,
      `\x1b[36;1m#\nUDP 127.0.0.1:46738 -> 127.0.0.1:39194\n${ringing}\x1b[;m\n`,
      'call: SIP Progress: 180 Ringing (/)\n',
    ].join('');
    const [sent, received, ...rest] = parseSipTrace(output);
    expect(rest).toEqual([]);
    expect(sent).toEqual({
      transport: 'UDP',
      source: '127.0.0.1:39194',
      destination: '127.0.0.1:46738',
      message: invite,
      body: offer,
    });
    expect(received).toMatchObject({ source: '127.0.0.1:46738', message: ringing, body: '' });
  });
});

describe('what baresip 1.0 sends (fixtures)', () => {
  it('offers DTLS-SRTP on UDP/TLS/RTP/SAVPF, with ICE or without', () => {
    for (const name of ['baresip-dtls-ice-offer.sdp', 'baresip-dtls-offer.sdp']) {
      const sdp = fixture(name);
      expect(sdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 101\r$/m);
      expect(sdp).toMatch(/^a=setup:actpass\r$/m);
      expect(sdp).toMatch(/^a=fingerprint:SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\r$/m);
    }
    const ice = fixture('baresip-dtls-ice-offer.sdp');
    expect(ice).toMatch(/^a=ice-ufrag:\S+\r$/m);
    expect(ice).not.toMatch(/127\.0\.0\.1 \d+ typ host/);
    expect(ice).not.toMatch(/a=(ice-lite|ice-options|rtcp-mux|mid|group|end-of-candidates)/);
  });

  it('answers a=setup:active', () => {
    for (const name of ['baresip-dtls-ice-answer.sdp', 'baresip-dtls-answer.sdp']) {
      expect(fixture(name)).toMatch(/^a=setup:active\r$/m);
    }
  });
});
