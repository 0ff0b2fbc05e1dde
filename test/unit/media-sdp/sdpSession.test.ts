import { parse } from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import {
  type CodecPreference,
  SdpMalformedError,
  SdpNotAcceptableError,
  SdpSession,
  SdpStateError,
} from '../../../src/media/sdp/index.js';
import {
  baresipG722Offer,
  baresipOffer,
  browserSrtpOffer,
  carrierAlawOffer,
  carrierOffer,
  g729OnlyOffer,
  reoffer,
  sippUacOffer,
  webrtcishOpusOffer,
} from './sdpOffers.js';

const DEFAULT_CODECS: CodecPreference[] = ['opus', 'G722', 'PCMU', 'PCMA', 'telephone-event'];

function session(codecs: CodecPreference[] = DEFAULT_CODECS, address = '192.0.2.1'): SdpSession {
  return new SdpSession({ codecs, address, rtpPort: 20000, sessionId: '42' });
}

function audioOf(sdp: string) {
  const media = parse(sdp).media.find((m) => m.type === 'audio');
  if (!media) throw new Error('no audio section');
  return media;
}

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('SdpSession answering offers', () => {
  it('answers a PSTN carrier with PCMU at the carrier payload types, events included', () => {
    const { sdp, media, version } = session().answerOffer(carrierOffer);
    expect(media.codec).toMatchObject({ name: 'PCMU', payloadType: 0, clockRate: 8000 });
    expect(media.telephoneEvent).toEqual({ payloadType: 101, clockRate: 8000, events: '0-16' });
    expect(media).toMatchObject({
      ptimeMs: 20,
      direction: 'sendrecv',
      rtcpMux: false,
      remoteRtp: { address: '203.0.113.10', port: 16384 },
      remoteRtcp: { address: '203.0.113.10', port: 16385 },
    });
    expect(version).toBe(1);
    const answer = parse(sdp);
    expect(answer.origin).toMatchObject({ sessionId: 42, sessionVersion: 1, address: '192.0.2.1', ipVer: 4 });
    expect(answer.connection).toEqual({ version: 4, ip: '192.0.2.1' });
    const audio = audioOf(sdp);
    expect(audio).toMatchObject({ port: 20000, protocol: 'RTP/AVP', payloads: '0 101', ptime: 20 });
    expect(audio.direction).toBe('sendrecv');
    expect(audio.rtp).toEqual([
      { payload: 0, codec: 'PCMU', rate: 8000 },
      { payload: 101, codec: 'telephone-event', rate: 8000 },
    ]);
    expect(audio.fmtp).toEqual([{ payload: 101, config: '0-16' }]);
    expect(audio.rtcpMux).toBeUndefined();
  });

  it('follows the configured preference list, not the offer order', () => {
    const { media } = session(['PCMA', 'PCMU', 'telephone-event']).answerOffer(carrierOffer);
    expect(media.codec).toMatchObject({ name: 'PCMA', payloadType: 8 });
  });

  it('reads c= at media level, bare static payload types and honours a 30 ms ptime', () => {
    const { sdp, media } = session().answerOffer(carrierAlawOffer);
    expect(media.codec).toMatchObject({ name: 'PCMA', payloadType: 8 });
    expect(media.telephoneEvent).toEqual({ payloadType: 100, clockRate: 8000, events: '0-15' });
    expect(media.ptimeMs).toBe(30);
    expect(media.remoteRtp).toEqual({ address: '198.51.100.8', port: 31770 });
    expect(audioOf(sdp)).toMatchObject({ ptime: 30, payloads: '8 100' });
  });

  it('answers a WebRTC-ish Opus offer: payload 111, the 48 kHz event, rtcp-mux, IPv6, AVPF kept', () => {
    const { sdp, media } = session(DEFAULT_CODECS, '2001:db8::1').answerOffer(webrtcishOpusOffer);
    expect(media.codec).toMatchObject({
      name: 'opus',
      payloadType: 111,
      clockRate: 48000,
      channels: 2,
      opus: { useInbandFec: true, stereo: true, spropStereo: false, minptime: 10, maxAverageBitrate: null },
    });
    expect(media.telephoneEvent).toEqual({ payloadType: 110, clockRate: 48000, events: '0-16' });
    expect(media.rtcpMux).toBe(true);
    expect(media.remoteRtp).toEqual({ address: '2001:db8::10', port: 50000 });
    expect(media.remoteRtcp).toEqual(media.remoteRtp);
    const answer = parse(sdp);
    expect(answer.connection).toEqual({ version: 6, ip: '2001:db8::1' });
    expect(answer.origin.ipVer).toBe(6);
    const audio = audioOf(sdp);
    expect(audio).toMatchObject({ protocol: 'RTP/AVPF', payloads: '111 110', rtcpMux: 'rtcp-mux' });
    expect(audio.rtp[0]).toEqual({ payload: 111, codec: 'opus', rate: 48000, encoding: 2 });
    expect(audio.fmtp).toContainEqual({
      payload: 111,
      config: 'minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0',
    });
  });

  it('pairs telephone-event with the chosen codec clock: 8 kHz when G.722 wins', () => {
    const { media } = session(['G722', 'opus', 'telephone-event']).answerOffer(webrtcishOpusOffer);
    expect(media.codec).toMatchObject({ name: 'G722', payloadType: 9, clockRate: 8000 });
    expect(media.telephoneEvent).toEqual({ payloadType: 126, clockRate: 8000, events: '0-16' });
  });

  it('answers baresip: Opus at its dynamic type 96 with its stereo wishes, or G.722 without Opus', () => {
    const opus = session().answerOffer(baresipOffer).media;
    expect(opus.codec).toMatchObject({ name: 'opus', payloadType: 96 });
    expect(opus.codec.opus).toMatchObject({ stereo: true, spropStereo: true, useInbandFec: false });
    // Opus runs at 48 kHz and baresip offers events only at 8 kHz: taken, as WhatsApp needs too.
    expect(opus.telephoneEvent).toMatchObject({ payloadType: 101, clockRate: 8000 });
    const g722 = session().answerOffer(baresipG722Offer);
    expect(g722.media.codec).toMatchObject({ name: 'G722', payloadType: 9, clockRate: 8000 });
    expect(g722.media.telephoneEvent).toMatchObject({ payloadType: 101, clockRate: 8000 });
    expect(audioOf(g722.sdp).rtp[0]).toEqual({ payload: 9, codec: 'G722', rate: 8000 });
  });

  it("answers sipp's default uac offer with PCMU and no events", () => {
    const { sdp, media } = session().answerOffer(sippUacOffer);
    expect(media.codec).toMatchObject({ name: 'PCMU', payloadType: 0 });
    expect(media.telephoneEvent).toBeNull();
    expect(media.remoteRtp).toEqual({ address: '127.0.0.1', port: 6000 });
    expect(String(audioOf(sdp).payloads)).toBe('0');
  });

  it('leaves telephone-event out when it is not configured', () => {
    const { sdp, media } = session(['PCMU']).answerOffer(carrierOffer);
    expect(media.telephoneEvent).toBeNull();
    expect(String(audioOf(sdp).payloads)).toBe('0');
  });

  it('sends RTCP where a=rtcp says, and reads codec names in any case', () => {
    const offer = carrierOffer
      .replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:0 pcmu/8000')
      .replace('a=sendrecv', 'a=sendrecv\r\na=rtcp:17000 IN IP4 203.0.113.11');
    const { media } = session(['PCMU', 'telephone-event']).answerOffer(offer);
    expect(media.codec.name).toBe('PCMU');
    expect(media.remoteRtcp).toEqual({ address: '203.0.113.11', port: 17000 });
  });

  it('answers each direction by its mirror', () => {
    const cases = [
      ['sendonly', 'recvonly'],
      ['recvonly', 'sendonly'],
      ['inactive', 'inactive'],
      ['sendrecv', 'sendrecv'],
    ] as const;
    for (const [offered, answered] of cases) {
      const { sdp, media } = session().answerOffer(reoffer(carrierOffer, 1, offered));
      expect(media.direction).toBe(answered);
      expect(audioOf(sdp).direction).toBe(answered);
    }
  });

  it('rejects other m= lines with port 0 and keeps their order', () => {
    const withVideo = carrierOffer.replace(
      'm=audio',
      'm=video 16400 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio',
    );
    const { sdp } = session().answerOffer(withVideo);
    const media = parse(sdp).media;
    expect(media.map((m) => [m.type, m.port])).toEqual([
      ['video', 0],
      ['audio', 20000],
    ]);
  });
});

describe('SdpSession re-INVITEs', () => {
  it('hold and resume keep the port and raise o= version on each change only', () => {
    const call = session();
    const first = call.answerOffer(carrierOffer);
    const hold = call.answerOffer(reoffer(carrierOffer, 1732061823, 'sendonly'));
    expect(hold.media.direction).toBe('recvonly');
    expect(hold.version).toBe(first.version + 1);
    expect(audioOf(hold.sdp)).toMatchObject({ port: 20000, direction: 'recvonly' });
    expect(parse(hold.sdp).origin).toMatchObject({ sessionId: 42, sessionVersion: 2 });

    // A session refresh repeating the same offer gets the same answer, same version.
    const refresh = call.answerOffer(reoffer(carrierOffer, 1732061823, 'sendonly'));
    expect(refresh.sdp).toBe(hold.sdp);

    const inactive = call.answerOffer(reoffer(carrierOffer, 1732061824, 'inactive'));
    expect(inactive.media.direction).toBe('inactive');
    expect(inactive.version).toBe(3);

    const resume = call.answerOffer(reoffer(carrierOffer, 1732061825, 'sendrecv'));
    expect(resume.media.direction).toBe('sendrecv');
    expect(resume.version).toBe(4);
    expect(audioOf(resume.sdp).port).toBe(20000);
  });

  it('treats the RFC 2543 hold address 0.0.0.0 as the peer not receiving', () => {
    const call = session();
    call.answerOffer(carrierOffer);
    const { media, sdp } = call.answerOffer(reoffer(carrierOffer, 2, 'sendrecv', '0.0.0.0'));
    expect(media.direction).toBe('recvonly');
    expect(media.remoteHoldByAddress).toBe(true);
    expect(audioOf(sdp).direction).toBe('recvonly');
  });

  it('switches codec when a re-offer drops the current one', () => {
    const call = session(['PCMU', 'PCMA', 'telephone-event']);
    expect(call.answerOffer(carrierOffer).media.codec.name).toBe('PCMU');
    const alawOnly = carrierOffer.replace('m=audio 16384 RTP/AVP 0 8 101', 'm=audio 16384 RTP/AVP 8 101');
    const changed = call.answerOffer(reoffer(alawOnly, 9, 'sendrecv'));
    expect(changed.media.codec).toMatchObject({ name: 'PCMA', payloadType: 8 });
    expect(changed.version).toBe(2);
    expect(audioOf(changed.sdp)).toMatchObject({ port: 20000, payloads: '8 101' });
  });

  it('a rejected re-offer leaves the agreed stream as it was', () => {
    const call = session();
    const first = call.answerOffer(carrierOffer);
    expect(() => call.answerOffer(g729OnlyOffer)).toThrow(SdpNotAcceptableError);
    expect(call.media).toEqual(first.media);
  });
});

describe('SdpSession offers and answers for outbound calls', () => {
  it('offers every configured codec with events at each clock rate, rtcp-mux and ptime 20', () => {
    const call = session();
    const { sdp, version } = call.createOffer();
    expect(version).toBe(1);
    const audio = audioOf(sdp);
    expect(audio).toMatchObject({
      port: 20000,
      protocol: 'RTP/AVP',
      payloads: '111 9 0 8 110 101',
      ptime: 20,
    });
    expect(audio.direction).toBe('sendrecv');
    expect(audio.rtcpMux).toBe('rtcp-mux');
    expect(audio.rtp).toContainEqual({ payload: 110, codec: 'telephone-event', rate: 48000 });
    expect(call.awaitingAnswer).toBe(true);
  });

  it("applies an answer: the answerer's codec and payload types, its address, its direction", () => {
    const call = session();
    call.createOffer();
    const answer = [
      'v=0',
      'o=- 5 5 IN IP4 203.0.113.20',
      's=-',
      'c=IN IP4 203.0.113.20',
      't=0 0',
      'm=audio 40000 RTP/AVP 8 101',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=ptime:20',
      'a=sendrecv',
      '',
    ].join('\r\n');
    const media = call.applyAnswer(answer);
    expect(media.codec).toMatchObject({ name: 'PCMA', payloadType: 8 });
    expect(media.telephoneEvent).toMatchObject({ payloadType: 101, clockRate: 8000 });
    expect(media.remoteRtp).toEqual({ address: '203.0.113.20', port: 40000 });
    expect(media.direction).toBe('sendrecv');
    expect(media.rtcpMux).toBe(false);
    expect(call.awaitingAnswer).toBe(false);
    expect(call.media).toEqual(media);
  });

  it("starts early media from a 183's answer and takes the 2xx's answer as the one that counts", () => {
    const call = session();
    call.createOffer();
    const answerAt = (port: number, codec: string) =>
      [
        'v=0',
        'o=- 5 5 IN IP4 203.0.113.20',
        's=-',
        'c=IN IP4 203.0.113.20',
        't=0 0',
        `m=audio ${port} RTP/AVP ${codec === 'PCMA' ? 8 : 0}`,
        `a=rtpmap:${codec === 'PCMA' ? 8 : 0} ${codec}/8000`,
        'a=sendrecv',
        '',
      ].join('\r\n');
    const early = call.applyAnswer(answerAt(40000, 'PCMA'), { provisional: true });
    expect(early).toMatchObject({ codec: { name: 'PCMA' }, remoteRtp: { port: 40000 } });
    expect(call.awaitingAnswer).toBe(true);
    const final = call.applyAnswer(answerAt(40002, 'PCMU'));
    expect(final).toMatchObject({ codec: { name: 'PCMU' }, remoteRtp: { port: 40002 } });
    expect(call.awaitingAnswer).toBe(false);
    expect(() => call.applyAnswer(answerAt(40002, 'PCMU'))).toThrow(/no offer/);
  });

  it('holds by re-offer (sendonly, agreed codec only, version + 1) and resumes', () => {
    const call = session();
    call.answerOffer(carrierOffer);
    const hold = call.createOffer({ direction: 'sendonly' });
    expect(hold.version).toBe(2);
    expect(audioOf(hold.sdp)).toMatchObject({ direction: 'sendonly', payloads: '0 101', port: 20000 });
    const held = call.applyAnswer(reoffer(carrierOffer, 5, 'recvonly'));
    expect(held.direction).toBe('sendonly');
    // While we hold, a peer's re-offer does not take us off hold.
    expect(call.answerOffer(reoffer(carrierOffer, 6, 'sendrecv')).media.direction).toBe('sendonly');
    const resume = call.createOffer({ direction: 'sendrecv' });
    expect(audioOf(resume.sdp).direction).toBe('sendrecv');
    expect(call.applyAnswer(reoffer(carrierOffer, 7, 'sendrecv')).direction).toBe('sendrecv');
  });

  it('a refresh offer keeps our hold; a peer offer during ours is glare (491)', () => {
    const call = session();
    call.answerOffer(carrierOffer);
    call.createOffer({ direction: 'sendonly' });
    const glare = errorOf(() => call.answerOffer(reoffer(carrierOffer, 9, 'sendrecv')));
    expect(glare).toBeInstanceOf(SdpStateError);
    expect(glare).toMatchObject({ code: 'sdp_state', sipStatus: 491 });
    call.applyAnswer(reoffer(carrierOffer, 10, 'recvonly'));
    const refresh = call.createOffer();
    expect(audioOf(refresh.sdp).direction).toBe('sendonly');
  });

  it('refuses an answer without an offer, and an answer that rejects the stream', () => {
    const call = session();
    expect(errorOf(() => call.applyAnswer(carrierOffer))).toBeInstanceOf(SdpStateError);
    call.createOffer();
    const rejected = carrierOffer.replace('m=audio 16384', 'm=audio 0');
    const error = errorOf(() => call.applyAnswer(rejected));
    expect(error).toBeInstanceOf(SdpNotAcceptableError);
    expect(call.awaitingAnswer).toBe(false);
  });
});

describe('SdpSession refusals', () => {
  it('refuses an offer with no codec in common with 488', () => {
    const error = errorOf(() => session().answerOffer(g729OnlyOffer));
    expect(error).toBeInstanceOf(SdpNotAcceptableError);
    expect(error).toMatchObject({ code: 'sdp_not_acceptable', sipStatus: 488 });
  });

  it('refuses a DTLS-SRTP offer until SRTP exists (no plain RTP audio stream)', () => {
    expect(errorOf(() => session().answerOffer(browserSrtpOffer))).toBeInstanceOf(SdpNotAcceptableError);
  });

  it('refuses an offer with only telephone-event, or with the audio stream disabled', () => {
    const eventsOnly = carrierOffer.replace('RTP/AVP 0 8 101', 'RTP/AVP 101');
    expect(errorOf(() => session().answerOffer(eventsOnly))).toBeInstanceOf(SdpNotAcceptableError);
    const disabled = carrierOffer.replace('m=audio 16384', 'm=audio 0');
    expect(errorOf(() => session().answerOffer(disabled))).toBeInstanceOf(SdpNotAcceptableError);
  });

  it.each([
    ['empty body', ''],
    ['not SDP', 'hello world'],
    ['missing v=', carrierOffer.replace('v=0\r\n', '')],
    ['missing o=', carrierOffer.replace(/o=[^\r]*\r\n/, '')],
    ['no m= line', carrierOffer.replace(/m=[\s\S]*$/, '')],
    ['bad m= line', carrierOffer.replace('m=audio 16384 RTP/AVP 0 8 101', 'm=audio port RTP/AVP')],
    ['port out of range', carrierOffer.replace('m=audio 16384', 'm=audio 99999')],
    ['a broken line', carrierOffer.replace('s=SBC Call', 's=SBC Call\r\nthis is not sdp')],
    ['no c= anywhere', carrierOffer.replace(/c=[^\r]*\r\n/, '')],
    ['IPv4 with an IPv6 address', carrierOffer.replace('c=IN IP4 203.0.113.10', 'c=IN IP4 2001:db8::1')],
  ])('refuses malformed SDP (%s) with a typed error', (_name, body) => {
    const error = errorOf(() => session().answerOffer(body));
    expect(error).toBeInstanceOf(SdpMalformedError);
    expect(error).toMatchObject({ code: 'sdp_malformed', sipStatus: 488 });
  });

  it('accepts LF-only line endings', () => {
    expect(session().answerOffer(carrierOffer.replaceAll('\r\n', '\n')).media.codec.name).toBe('PCMU');
  });
});
