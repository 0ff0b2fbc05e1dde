import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { testCertificate } from '../support/testCertificate.js';
import { connectSrf, LOCAL_SDP, type SrfApp, uasApp, waitForApps } from './sipEngineRig.js';
import { type Peer, reasonOf, request, SDP, statusOf, streamPeer, udpPeer } from './sipRawPeer.js';

describe('embedded SIP engine on raw sockets', () => {
  let engine: SipEngineProcess;
  let srf: SrfApp;
  const stats = new EventEmitter() as EventEmitter & { answered?: number };

  beforeAll(async () => {
    const { keyFile, certFile } = testCertificate('localhost');
    engine = await startSipEngine({ tls: { keyFile, certFile } });
    srf = await connectSrf(engine, (app) => {
      uasApp(stats)(app);
      app.options((_req, res) => res.send(200));
    });
    await waitForApps(engine, 1);
  });
  afterAll(async () => {
    srf.disconnect();
    expect(await engine.stop()).toBe(0);
  });

  describe.each(['UDP', 'TCP'] as const)('malformed requests over %s', (transport) => {
    const open = (): Promise<Peer> =>
      transport === 'UDP' ? udpPeer(engine.sipPort) : streamPeer(engine.sipPort, false);

    it.each([
      ['a SIP version we do not speak', (r: string) => r.replace(' SIP/2.0\r\n', ' SIP/3.0\r\n'), 505],
      ['a request line with two spaces', (r: string) => r.replace('OPTIONS sip:', 'OPTIONS  sip:'), 400],
      ['a Request-URI without scheme', (r: string) => r.replace(/^OPTIONS \S+/, 'OPTIONS nowhere'), 400],
      ['no Call-ID', (r: string) => r.replace(/Call-ID: .*\r\n/, ''), 400],
      ['no CSeq', (r: string) => r.replace(/CSeq: .*\r\n/, ''), 400],
      ['no From', (r: string) => r.replace(/From: .*\r\n/, ''), 400],
      ['no Max-Forwards', (r: string) => r.replace(/Max-Forwards: .*\r\n/, ''), 400],
      [
        'a CSeq method that is not the request method',
        (r: string) => r.replace('1 OPTIONS', '1 INVITE'),
        400,
      ],
      [
        'a non-numeric Content-Length',
        (r: string) => r.replace('Content-Length: 0', 'Content-Length: x0'),
        400,
      ],
      [
        'a 20 kB header section',
        (r: string) => r.replace('\r\n\r\n', `\r\nX-Huge: ${'a'.repeat(20_000)}\r\n\r\n`),
        513,
      ],
    ])('answers %s', async (_what, mangle, status) => {
      const peer = await open();
      try {
        peer.send(mangle(request(peer, engine)));
        const reply = await peer.next();
        expect(statusOf(reply)).toBe(status);
        expect(reasonOf(reply)).not.toBe('');
        // A stream whose framing failed has no trustworthy boundary left: answered, then closed.
        if (
          transport === 'TCP' &&
          (status === 513 || /Content-Length: x/.test(mangle('Content-Length: 0')))
        ) {
          await peer.closed;
        }
      } finally {
        peer.close();
      }
    });

    it('answers a Content-Length beyond the body with 400 (UDP) or waits for the rest (TCP)', async () => {
      const peer = await open();
      try {
        const msg = request(peer, engine, { method: 'INFO', body: 'abc', contentLength: '10' });
        peer.send(msg);
        if (transport === 'UDP') {
          const reply = await peer.next();
          expect(statusOf(reply)).toBe(400);
          expect(reasonOf(reply)).toMatch(/Content-Length/);
        } else {
          // On a stream the length is the frame boundary: the rest completes it, then it is served.
          peer.send('defghij');
          expect(statusOf(await peer.next())).toBe(503); // nobody routed INFO
        }
      } finally {
        peer.close();
      }
    });

    it('survives binary garbage and a header line without a colon', async () => {
      const peer = await open();
      try {
        if (transport === 'TCP') {
          // Garbage ending in a blank line frames as a header section without Content-Length:
          // nothing in it to answer, and no boundary to trust afterwards, so the engine hangs up.
          peer.send(
            Buffer.concat([
              randomBytes(600).map((b) => (b === 0x0d || b === 0x0a ? 0x20 : b)),
              Buffer.from('\r\n\r\n'),
            ]),
          );
          await peer.closed;
          return;
        }
        peer.send(randomBytes(600));
        const broken = request(peer, engine).replace('Max-Forwards: 70', 'this line has no colon');
        peer.send(broken);
        expect(statusOf(await peer.next())).toBe(400);
      } finally {
        peer.close();
      }
    });

    it('answers 481 to a request for a dialog it does not know', async () => {
      const peer = await open();
      try {
        peer.send(request(peer, engine, { method: 'BYE', toTag: 'no-such-dialog', cseq: 2 }));
        expect(statusOf(await peer.next())).toBe(481);
      } finally {
        peer.close();
      }
    });

    it('still serves requests after all of that', async () => {
      const peer = await open();
      try {
        peer.send(request(peer, engine));
        expect(statusOf(await peer.next())).toBe(200);
      } finally {
        peer.close();
      }
    });
  });

  it('counts the parse errors and still completes sipp calls afterwards', async () => {
    const before = await engine.counts();
    expect(before.parse_errors_total).toBeGreaterThan(10);
    const answered = stats.answered ?? 0;
    const result = await runSipp({
      scenario: 'uac',
      target: { host: '127.0.0.1', port: engine.sipPort },
      calls: 5,
      pauseMs: 100,
    });
    assertAllCallsSucceeded(result, 5);
    expect((stats.answered ?? 0) - answered).toBe(5);
  });

  it('carries a basic call over TLS: INVITE, 200 with Contact on the TLS listener, ACK, BYE', async () => {
    const peer = await streamPeer(engine.tlsPort ?? 0, true);
    try {
      const answered = stats.answered ?? 0;
      const callId = `tls-${randomBytes(6).toString('hex')}`;
      const ended = once(stats, 'ended');
      peer.send(
        request(peer, engine, {
          method: 'INVITE',
          callId,
          body: SDP,
          extra: [
            'Content-Type: application/sdp',
            `Record-Route: <sip:127.0.0.1:${peer.localPort};transport=tls;lr>`,
          ],
        }),
      );
      let ok = await peer.next();
      while (statusOf(ok) < 200) ok = await peer.next();
      expect(statusOf(ok)).toBe(200);
      expect(ok).toContain(`Contact: <sip:127.0.0.1:${engine.tlsPort};transport=tls>`);
      expect(ok).toContain('Content-Type: application/sdp');
      expect(ok).toContain(`Record-Route: <sip:127.0.0.1:${peer.localPort};transport=tls;lr>`);
      expect(ok).toContain(LOCAL_SDP.split('\r\n')[0] ?? 'v=0');
      const toTag = /^To: .*;tag=([^;\r\n]+)/m.exec(ok)?.[1];
      expect(toTag).toBeDefined();
      peer.send(request(peer, engine, { method: 'ACK', callId, toTag: toTag ?? '' }));
      peer.send(request(peer, engine, { method: 'BYE', callId, toTag: toTag ?? '', cseq: 2 }));
      const byeOk = await peer.next();
      expect(statusOf(byeOk)).toBe(200);
      expect(byeOk).toContain('CSeq: 2 BYE');
      await ended;
      expect((stats.answered ?? 0) - answered).toBe(1);
    } finally {
      peer.close();
    }
  });
});
