import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createDtlsCertificate } from '../../../src/media/dtls/dtlsCertificate.js';
import type { RtpSessionHandlerOptions } from '../../../src/media/session/rtpSessionHandlerTypes.js';
import { WhatsAppMediaStandIn } from '../../support/whatsappMediaStandIn.js';
import { sessionRig } from './sessionRig.js';

/**
 * A media session keyed by DTLS-SRTP over ICE, against a stand-in for WhatsApp's media server
 * (ice-lite, actpass, waits for our first packet): the gateway must control ICE and nominate,
 * be the DTLS client, and send SRTP first; the peer's media then counts. A certificate that is
 * not the one the offer named ends the session with media_error and frees its port.
 */
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function rig(secureMediaTimers?: RtpSessionHandlerOptions['secureMediaTimers']) {
  return sessionRig(cleanup, 26_000, secureMediaTimers);
}

async function standIn(): Promise<WhatsAppMediaStandIn> {
  const peer = await WhatsAppMediaStandIn.start();
  cleanup.push(() => peer.close());
  return peer;
}

describe('a DTLS-SRTP media session against a WhatsApp-like (ice-lite) peer', () => {
  it('nominates as the controlling agent, sends the ClientHello and the first SRTP packet', async () => {
    const { handler, nextEvent } = rig();
    const peer = await standIn();
    const nominated = once(peer.ice, 'nominated');
    const firstPacket = nextEvent('firstPacket');
    const created = await handler.createSession({
      sessionId: 'dtls1',
      remoteOffer: peer.offer(),
      callId: null,
      encryption: { method: 'dtls', required: true },
    });
    expect(created.media?.encryption).toEqual({ keying: 'dtls', suite: null });
    expect(created.localSdp).toContain('a=setup:active');
    peer.accept(created.localSdp);

    // USE-CANDIDATE from us: an ice-lite peer never nominates.
    await nominated;
    // The peer sends only after our first SRTP packet authenticated (it waits, as Meta does), so
    // media from it reaching the session proves we spoke first, with keys from our handshake.
    const first = await firstPacket;
    expect(peer.keyed).toBe(true);
    expect(peer.firstFromGateway).not.toBeNull();
    expect(peer.firstSent).not.toBeNull();
    expect(peer.firstFromGateway ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(
      peer.firstSent ?? Number.NEGATIVE_INFINITY,
    );
    expect(peer.received[0]).toBe(0);
    expect(first.from).toEqual(peer.ice.endpoint);
    expect(handler.status()).toMatchObject({ sessions: 1, portsInUse: 1 });
  });

  it('ends with media_error when the peer’s certificate is not the one its offer named', async () => {
    const { handler, nextEvent } = rig();
    const peer = await standIn();
    const closed = nextEvent('sessionClosed');
    const impostor = await createDtlsCertificate();
    const created = await handler.createSession({
      sessionId: 'dtls2',
      remoteOffer: peer.offer(impostor.fingerprint),
      callId: null,
      encryption: { method: 'dtls', required: true },
    });
    peer.accept(created.localSdp);
    const event = await closed;
    expect(event).toMatchObject({ sessionId: 'dtls2', reason: 'media_error' });
    expect(event.message).toMatch(/DTLS handshake failed: .*does not match the fingerprint/);
    expect(peer.received).toEqual([]);
    expect(handler.status()).toMatchObject({ sessions: 0, portsInUse: 0 });
  });

  it('ends with media_timeout when the peer stops answering consent checks, and frees its port', async () => {
    const { handler, nextEvent } = rig({ ice: { consentIntervalMs: 100, consentTimeoutMs: 600 } });
    const peer = await standIn();
    const firstPacket = nextEvent('firstPacket');
    const created = await handler.createSession({
      sessionId: 'dtls4',
      remoteOffer: peer.offer(),
      callId: null,
      encryption: { method: 'dtls', required: true },
    });
    peer.accept(created.localSdp);
    await firstPacket;
    const closed = nextEvent('sessionClosed');
    // The peer vanishes: no BYE, no ICMP, just silence (its socket is gone).
    await peer.close();
    const event = await closed;
    expect(event).toMatchObject({ sessionId: 'dtls4', reason: 'media_timeout' });
    expect(event.message).toMatch(/ICE consent lost/);
    expect(handler.status()).toMatchObject({ sessions: 0, portsInUse: 0 });
  });

  it('refuses a DTLS offer on a trunk that keys by SDES only', async () => {
    const { handler } = rig();
    const peer = await standIn();
    await expect(
      handler.createSession({
        sessionId: 'dtls3',
        remoteOffer: peer.offer(),
        callId: null,
        encryption: { method: 'sdes', required: true },
      }),
    ).rejects.toThrow(/does not key media by DTLS/);
    expect(handler.status()).toMatchObject({ sessions: 0, portsInUse: 0 });
  });
});
