/**
 * RFC 3262 (100rel / PRACK) in the embedded engine, over real UDP sockets with drachtio-srf apps:
 * an app's 183 with `Require: 100rel` goes out reliable (RSeq), is retransmitted until its PRACK,
 * the PRACK is answered 200 only when its RAck matches (481 otherwise), and the app's 2xx waits for
 * the PRACK; toward a UAS that sends a reliable 183, srf's PRACK goes out in the early dialog.
 */
import { EventEmitter, once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { connectSrf, LOCAL_SDP, type SrfApp, type SrfDialog, waitForApps } from './sipEngineRig.js';
import { type Peer, request, SDP, statusOf, udpPeer } from './sipRawPeer.js';

const header = (msg: string, name: string): string =>
  new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(msg)?.[1]?.trim() ?? '';
const methodOf = (msg: string): string => /^([A-Z]+) /.exec(msg)?.[1] ?? '';

/** Reads messages until one satisfies `match`; returns it and those skipped. */
async function until(
  peer: Peer,
  match: (msg: string) => boolean,
): Promise<{ msg: string; skipped: string[] }> {
  const skipped: string[] = [];
  for (;;) {
    if (skipped.length > 20) throw new Error(`no matching message among:\n${skipped.join('\n----\n')}`);
    const msg = await peer.next(10_000);
    if (match(msg)) return { msg, skipped };
    skipped.push(msg);
  }
}

describe('embedded SIP engine: reliable provisional responses (RFC 3262)', () => {
  let engine: SipEngineProcess;
  let srf: SrfApp;
  const events = new EventEmitter();

  beforeAll(async () => {
    engine = await startSipEngine();
    srf = await connectSrf(engine, (app) => {
      app.invite((req, res) => {
        // As the gateway does for a caller offering 100rel: early media reliably, then the answer.
        res.send(183, { headers: { Require: '100rel' }, body: LOCAL_SDP });
        app.createUAS(req, res, { localSdp: LOCAL_SDP }).then(
          (dialog) => events.emit('dialog', dialog),
          (err: unknown) => events.emit('failed', err),
        );
      });
    });
    await waitForApps(engine, 1);
  });
  afterAll(async () => {
    srf.disconnect();
    expect(await engine.stop()).toBe(0);
  });

  const invite = (peer: Peer, callId: string, extra: string[]): string =>
    request(peer, engine, {
      method: 'INVITE',
      callId,
      body: SDP,
      extra: ['Content-Type: application/sdp', ...extra],
    });

  it('sends the 183 with Require: 100rel and RSeq, retransmits it until the PRACK, and holds the 200 until then', async () => {
    const peer = await udpPeer(engine.sipPort);
    try {
      const callId = `prack-${Date.now()}`;
      peer.send(invite(peer, callId, ['Require: 100rel', 'Supported: 100rel']));
      const first = (await until(peer, (m) => statusOf(m) === 183)).msg;
      expect(header(first, 'Require')).toMatch(/100rel/);
      const rseq = Number(header(first, 'RSeq'));
      expect(rseq).toBeGreaterThan(0);
      expect(first).toContain('v=0');
      // No PRACK yet: the same 183 comes again (T1, then 2·T1), and no 200 meanwhile.
      const again = await until(peer, (m) => statusOf(m) === 183);
      expect(again.skipped.filter((m) => statusOf(m) >= 200)).toEqual([]);
      expect(Number(header(again.msg, 'RSeq'))).toBe(rseq);
      const toTag = /^To: .*;tag=([^;\r\n]+)/m.exec(first)?.[1] ?? '';

      // A PRACK whose RAck names another RSeq matches nothing: 481.
      peer.send(
        request(peer, engine, {
          method: 'PRACK',
          callId,
          toTag,
          cseq: 2,
          extra: [`RAck: ${rseq + 5} 1 INVITE`],
        }),
      );
      const refused = await until(peer, (m) => header(m, 'CSeq') === '2 PRACK');
      expect(statusOf(refused.msg)).toBe(481);

      peer.send(
        request(peer, engine, { method: 'PRACK', callId, toTag, cseq: 3, extra: [`RAck: ${rseq} 1 INVITE`] }),
      );
      const dialogUp = once(events, 'dialog') as Promise<[SrfDialog]>;
      const prackOk = await until(peer, (m) => header(m, 'CSeq') === '3 PRACK');
      expect(statusOf(prackOk.msg)).toBe(200);
      const ok = await until(peer, (m) => statusOf(m) === 200 && header(m, 'CSeq') === '1 INVITE');
      peer.send(request(peer, engine, { method: 'ACK', callId, toTag, cseq: 1 }));
      const [dialog] = await dialogUp;
      expect(ok.msg).toContain('v=0');
      // UPDATE passes through the confirmed dialog both ways (what session timers refresh with).
      peer.send(
        request(peer, engine, { method: 'UPDATE', callId, toTag, cseq: 4, extra: ['Session-Expires: 90'] }),
      );
      expect(statusOf((await until(peer, (m) => header(m, 'CSeq') === '4 UPDATE')).msg)).toBe(200);
      const updated = dialog.request({
        method: 'UPDATE',
        headers: { 'Session-Expires': '90;refresher=uas' },
      });
      const update = (await until(peer, (m) => methodOf(m) === 'UPDATE')).msg;
      expect(header(update, 'Session-Expires')).toBe('90;refresher=uas');
      expect(header(update, 'To')).toMatch(/tag=rawtag/);
      peer.send(
        `SIP/2.0 200 OK\r\n${[
          ...(update.match(/^Via: .*$/gm) ?? []),
          `From: ${header(update, 'From')}`,
          `To: ${header(update, 'To')}`,
          `Call-ID: ${callId}`,
          `CSeq: ${header(update, 'CSeq')}`,
          'Content-Length: 0',
        ].join('\r\n')}\r\n\r\n`,
      );
      expect((await updated).status).toBe(200);
      const ended = once(dialog, 'destroy');
      peer.send(request(peer, engine, { method: 'BYE', callId, toTag, cseq: 5 }));
      expect(statusOf((await until(peer, (m) => header(m, 'CSeq') === '5 BYE')).msg)).toBe(200);
      await ended;
    } finally {
      peer.close();
    }
  });

  it('sends provisionals unreliably to a caller that offers no 100rel', async () => {
    const peer = await udpPeer(engine.sipPort);
    try {
      const callId = `noprack-${Date.now()}`;
      const dialogUp = once(events, 'dialog') as Promise<[SrfDialog]>;
      peer.send(invite(peer, callId, []));
      const early = (await until(peer, (m) => statusOf(m) === 183)).msg;
      expect(header(early, 'RSeq')).toBe('');
      expect(header(early, 'Require')).not.toMatch(/100rel/);
      const ok = await until(peer, (m) => statusOf(m) === 200);
      const toTag = /^To: .*;tag=([^;\r\n]+)/m.exec(ok.msg)?.[1] ?? '';
      peer.send(request(peer, engine, { method: 'ACK', callId, toTag, cseq: 1 }));
      const [dialog] = await dialogUp;
      void dialog.destroy();
      const bye = (await until(peer, (m) => methodOf(m) === 'BYE')).msg;
      expect(header(bye, 'CSeq')).toBe('1 BYE');
    } finally {
      peer.close();
    }
  });

  it('PRACKs a reliable 183 from the far end in its early dialog (srf createUAC)', async () => {
    const peer = await udpPeer(engine.sipPort);
    try {
      const dialogP = srf.createUAC(`sip:callee@127.0.0.1:${peer.localPort}`, {
        localSdp: LOCAL_SDP,
        headers: { Supported: '100rel' },
      });
      const inv = await until(peer, (m) => methodOf(m) === 'INVITE');
      expect(header(inv.msg, 'Supported')).toMatch(/100rel/);
      const vias = inv.msg.match(/^Via: .*$/gm) ?? [];
      const base = [
        ...vias,
        `From: ${header(inv.msg, 'From')}`,
        `To: ${header(inv.msg, 'To')};tag=uas1`,
        `Call-ID: ${header(inv.msg, 'Call-ID')}`,
        `CSeq: ${header(inv.msg, 'CSeq')}`,
        `Contact: <sip:callee@127.0.0.1:${peer.localPort}>`,
      ];
      const respond = (status: string, extra: string[], body = ''): void =>
        peer.send(
          `SIP/2.0 ${status}\r\n${[...base, ...extra, `Content-Length: ${Buffer.byteLength(body)}`].join('\r\n')}\r\n\r\n${body}`,
        );
      respond('183 Session Progress', ['Require: 100rel', 'RSeq: 42', 'Content-Type: application/sdp'], SDP);
      // Its retransmission is not PRACKed again (RFC 3262 4).
      respond('183 Session Progress', ['Require: 100rel', 'RSeq: 42', 'Content-Type: application/sdp'], SDP);
      const prack = (await until(peer, (m) => methodOf(m) === 'PRACK')).msg;
      expect(header(prack, 'RAck')).toBe(`42 ${header(inv.msg, 'CSeq')}`);
      expect(header(prack, 'To')).toMatch(/tag=uas1/);
      expect(prack).toMatch(new RegExp(`^PRACK sip:callee@127\\.0\\.0\\.1:${peer.localPort} SIP/2\\.0`));
      const inviteSeq = Number.parseInt(header(inv.msg, 'CSeq'), 10);
      expect(header(prack, 'CSeq')).toBe(`${inviteSeq + 1} PRACK`);
      const prackVias = prack.match(/^Via: .*$/gm) ?? [];
      peer.send(
        `SIP/2.0 200 OK\r\n${[
          ...prackVias,
          `From: ${header(prack, 'From')}`,
          `To: ${header(prack, 'To')}`,
          `Call-ID: ${header(prack, 'Call-ID')}`,
          `CSeq: ${header(prack, 'CSeq')}`,
          'Content-Length: 0',
        ].join('\r\n')}\r\n\r\n`,
      );
      respond('200 OK', ['Content-Type: application/sdp'], SDP);
      const acked = await until(peer, (m) => methodOf(m) === 'ACK');
      expect(acked.skipped.filter((m) => methodOf(m) === 'PRACK')).toEqual([]);
      const ack = acked.msg;
      expect(header(ack, 'CSeq')).toBe(`${inviteSeq} ACK`);
      const dialog = await dialogP;
      void dialog.destroy();
      const bye = (await until(peer, (m) => methodOf(m) === 'BYE')).msg;
      // The BYE's CSeq follows the PRACK's, never repeats it.
      expect(header(bye, 'CSeq')).toBe(`${inviteSeq + 2} BYE`);
    } finally {
      peer.close();
    }
  });
});
