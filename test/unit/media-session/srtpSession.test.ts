import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRtpPacket, serializeRtpPacket } from '../../../src/media/rtp/rtpPacket.js';
import { newMasterKey } from '../../../src/media/srtp/sdesCrypto.js';
import { SRTP_SUITES } from '../../../src/media/srtp/srtpSuites.js';
import { SrtpTransform } from '../../../src/media/srtp/srtpTransform.js';
import { sessionRig } from './sessionRig.js';

/**
 * A media session keyed by SDES, against a peer made of a UDP socket and an SrtpTransform of its
 * own: what we send decrypts with the key we answered with, what the peer sends under its key is
 * taken, and a stream that never authenticates ends the session with media_error, port released.
 */
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const SUITE = SRTP_SUITES[0];
if (!SUITE) throw new Error('no SRTP suite');

function rig() {
  return sessionRig(cleanup, 23_000);
}

async function udpPeer(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  cleanup.push(() => socket.close());
  return { socket, port: socket.address().port };
}

function offer(port: number, key: Buffer): string {
  return [
    'v=0',
    'o=peer 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/SAVP 0`,
    'a=rtpmap:0 PCMU/8000',
    `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key.toString('base64')}`,
    'a=rtcp-mux',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

function rtp(sequenceNumber: number): Uint8Array {
  return serializeRtpPacket({
    payloadType: 0,
    sequenceNumber,
    timestamp: sequenceNumber * 160,
    ssrc: 0xabc,
    payload: new Uint8Array(160).fill(0xff),
  });
}

async function keyedSession() {
  const { handler, nextEvent } = rig();
  const peer = await udpPeer();
  const peerKey = newMasterKey(SUITE as NonNullable<typeof SUITE>);
  const created = await handler.createSession({
    sessionId: 'srtp1',
    remoteOffer: offer(peer.port, peerKey),
    callId: null,
    encryption: { method: 'sdes', required: true },
  });
  const ourKey = /a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:(\S+)/.exec(created.localSdp)?.[1];
  if (!ourKey) throw new Error(`no crypto line in our answer:\n${created.localSdp}`);
  const transform = new SrtpTransform({
    suite: 'AES_CM_128_HMAC_SHA1_80',
    local: peerKey,
    remote: Buffer.from(ourKey, 'base64'),
  });
  return { handler, nextEvent, peer, created, transform };
}

describe('an SDES-keyed media session', () => {
  it('sends SRTP that decrypts with its answered key, and takes the peer’s SRTP', async () => {
    const { nextEvent, peer, created, transform } = await keyedSession();
    expect(created.media?.encryption).toEqual({ keying: 'sdes', suite: 'AES_CM_128_HMAC_SHA1_80' });
    // Our first packets go out before the peer sends anything (a WhatsApp-like peer waits for them).
    const [datagram] = (await once(peer.socket, 'message')) as [Buffer];
    expect(datagram.subarray(12).equals(Buffer.from(rtp(0).subarray(12)))).toBe(false);
    const opened = transform.unprotectRtp(datagram);
    expect(opened.ok).toBe(true);
    if (opened.ok) expect(parseRtpPacket(opened.packet).payloadType).toBe(0);

    const first = nextEvent('firstPacket');
    const port = created.rtpPort;
    peer.socket.send(transform.protectRtp(rtp(1)), port, '127.0.0.1');
    expect((await first).from).toEqual({ address: '127.0.0.1', port: peer.port });
  });

  it('ends with media_error when the peer’s packets never authenticate, and frees its port', async () => {
    const { handler, nextEvent, peer, created } = await keyedSession();
    const closed = nextEvent('sessionClosed');
    const stranger = new SrtpTransform({
      suite: 'AES_CM_128_HMAC_SHA1_80',
      local: newMasterKey(SUITE as NonNullable<typeof SUITE>),
      remote: newMasterKey(SUITE as NonNullable<typeof SUITE>),
    });
    let firstPacket = false;
    void nextEvent('firstPacket').then(() => {
      firstPacket = true;
    });
    for (let seq = 0; seq < 100; seq++)
      peer.socket.send(stranger.protectRtp(rtp(seq)), created.rtpPort, '127.0.0.1');
    const event = await closed;
    expect(event).toMatchObject({ sessionId: 'srtp1', reason: 'media_error' });
    expect(event.message).toMatch(/SRTP authentication failed for 100 packets in a row/);
    // A forged stream never counted as media.
    expect(firstPacket).toBe(false);
    expect(handler.status()).toMatchObject({ sessions: 0, portsInUse: 0 });
  });
});
