/** Offers as real endpoints send them, CRLF-terminated. */
const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;

/** A PSTN carrier (SBC-style): G.711 both laws, RFC 4733 events, a=ptime and a=maxptime. */
export const carrierOffer = crlf([
  'v=0',
  'o=- 1732061822 1732061822 IN IP4 203.0.113.10',
  's=SBC Call',
  'c=IN IP4 203.0.113.10',
  't=0 0',
  'm=audio 16384 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=maxptime:150',
  'a=sendrecv',
]);

/** A European carrier: A-law only, 30 ms ptime, c= at media level only, static types bare. */
export const carrierAlawOffer = crlf([
  'v=0',
  'o=Sonus_UAC 27071 11254 IN IP4 198.51.100.7',
  's=SIP Media Capabilities',
  't=0 0',
  'm=audio 31770 RTP/AVP 8 100',
  'c=IN IP4 198.51.100.8',
  'a=rtpmap:100 telephone-event/8000',
  'a=fmtp:100 0-15',
  'a=ptime:30',
]);

/** A WebRTC-derived stack on plain RTP (Opus 111, two telephone-events, rtcp-mux), over IPv6. */
export const webrtcishOpusOffer = crlf([
  'v=0',
  'o=- 4611731400430051336 2 IN IP6 2001:db8::10',
  's=-',
  't=0 0',
  'a=msid-semantic: WMS',
  'm=audio 50000 RTP/AVPF 111 63 9 0 8 13 110 126',
  'c=IN IP6 2001:db8::10',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1;stereo=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:1001 cname:abcdefgh',
]);

/** Browser WebRTC proper: DTLS-SRTP with ICE, which this version cannot carry yet. */
export const browserSrtpOffer = crlf([
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:0 PCMU/8000',
]);

/** baresip with its default module set: Opus (dynamic 96, stereo), G.722, G.711, events. */
export const baresipOffer = crlf([
  'v=0',
  'o=- 1936372935 3032588402 IN IP4 192.168.1.20',
  's=-',
  'c=IN IP4 192.168.1.20',
  't=0 0',
  'm=audio 10396 RTP/AVP 96 9 0 8 101',
  'b=AS:64',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=label:1',
  'a=rtcp-rsize',
  'a=ssrc:3248912312 cname:d2f7c1e0-5c0a-4a5b-8a0c-7f3c3c2f1e10',
  'a=ptime:20',
]);

/** baresip built without Opus: G.722 first, then G.711. */
export const baresipG722Offer = crlf([
  'v=0',
  'o=- 3283726482 3883649230 IN IP4 10.0.0.5',
  's=-',
  'c=IN IP4 10.0.0.5',
  't=0 0',
  'm=audio 10000 RTP/AVP 9 0 8 101',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=ptime:20',
]);

/** `sipp -sd uac` as it goes on the wire with local_ip 127.0.0.1 and media_port 6000. */
export const sippUacOffer = crlf([
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
]);

/** Only codecs we do not carry (G.729, GSM). */
export const g729OnlyOffer = crlf([
  'v=0',
  'o=- 1 1 IN IP4 203.0.113.10',
  's=-',
  'c=IN IP4 203.0.113.10',
  't=0 0',
  'm=audio 16384 RTP/AVP 18 3 101',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:3 GSM/8000',
  'a=rtpmap:101 telephone-event/8000',
]);

/** Rewrites an offer's o= version and direction, as a re-INVITE would. */
export function reoffer(offer: string, version: number, direction: string, address?: string): string {
  let text = offer
    .replace(/^(o=\S+ \S+ )\d+/m, `$1${version}`)
    .replace(/^a=(sendrecv|sendonly|recvonly|inactive)\r\n/gm, '');
  text = text.replace(/^(m=audio[^\r]*\r\n)/m, `$1a=${direction}\r\n`);
  if (address) text = text.replace(/^c=IN IP4 \S+/gm, `c=IN IP4 ${address}`);
  return text;
}
