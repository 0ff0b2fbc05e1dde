/**
 * What the embedded engine does on its own when a party goes quiet: a 2xx never ACKed is
 * retransmitted, then the engine hangs up with BYE and tells the app (`unsolicited`); an app that
 * disconnects while holding an unanswered INVITE leaves the caller with a 480, not a hanging call.
 */
import { EventEmitter, once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { connectSrf, LOCAL_SDP, type SrfApp, waitForApps } from './sipEngineRig.js';
import { request, SDP, statusOf, udpPeer } from './sipRawPeer.js';

describe('embedded SIP engine timeouts and app loss', () => {
  let engine: SipEngineProcess;

  beforeAll(async () => {
    engine = await startSipEngine();
  });
  afterAll(async () => {
    expect(await engine.stop()).toBe(0);
  });

  it('answers 480 to an INVITE whose app disconnects before answering', async () => {
    const events = new EventEmitter();
    const srf: SrfApp = await connectSrf(engine, (app) => app.invite(() => events.emit('invite')));
    await waitForApps(engine, 1);
    const peer = await udpPeer(engine.sipPort);
    try {
      const invited = once(events, 'invite');
      const invite = request(peer, engine, {
        method: 'INVITE',
        body: SDP,
        extra: ['Content-Type: application/sdp'],
      });
      peer.send(invite);
      await invited;
      srf.disconnect();
      let final = await peer.next();
      while (statusOf(final) < 200) final = await peer.next();
      expect(statusOf(final)).toBe(480);
      const branch = /branch=([^;\r\n]+)/.exec(invite)?.[1] ?? '';
      const toTag = /^To: .*;tag=([^;\r\n]+)/m.exec(final)?.[1] ?? '';
      const callId = /^Call-ID: (.*)$/m.exec(invite)?.[1]?.trim() ?? '';
      peer.send(request(peer, engine, { method: 'ACK', branch, callId, toTag }));
      const settled = await engine.waitForCounts(
        (c) => c.pending_server_requests === 0 && c.apps === 0,
        10_000,
      );
      expect(settled.pending_server_requests).toBe(0);
    } finally {
      peer.close();
    }
  });

  it('retransmits an unacknowledged 2xx, then sends BYE and reports it to the app as unsolicited', async () => {
    const events = new EventEmitter();
    const srf: SrfApp = await connectSrf(engine, (app) =>
      app.invite((req, res) => {
        app.createUAS(req, res, { localSdp: LOCAL_SDP }).then((dialog) => {
          dialog.on('destroy', (_msg: unknown, reason: string) => events.emit('destroy', reason));
        });
      }),
    );
    await waitForApps(engine, 1);
    const peer = await udpPeer(engine.sipPort);
    try {
      const destroyed = once(events, 'destroy');
      peer.send(
        request(peer, engine, { method: 'INVITE', body: SDP, extra: ['Content-Type: application/sdp'] }),
      );
      let oks = 0;
      let msg = await peer.next();
      // RFC 3261 13.3.1.4: the 2xx is resent at T1, 2*T1… capped at T2, for 64*T1 (32 s).
      while (!msg.startsWith('BYE ')) {
        if (statusOf(msg) === 200) oks++;
        msg = await peer.next(40_000);
      }
      expect(oks).toBeGreaterThanOrEqual(5);
      expect(msg).toMatch(/^Reason: SIP ;cause=200 ;text="ACK timeout"/m);
      const [reason] = (await destroyed) as [string];
      expect(reason).toBe('ACK timeout');
      const settled = await engine.waitForCounts((c) => c.dialogs === 0, 5000);
      expect(settled.dialogs).toBe(0);
    } finally {
      peer.close();
      srf.disconnect();
    }
  }, 60_000);
});
