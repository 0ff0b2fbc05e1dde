import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createResponse } from '../../sip/engine/message/createResponse.js';
import type { SipMessage, SipRequest, SipResponse } from '../../sip/engine/message/messageTypes.js';
import { SipHeaders } from '../../sip/engine/message/sipHeaders.js';
import { parseVia } from '../../sip/engine/message/via.js';
import { OkRetransmitter } from '../../sip/engine/transaction/okRetransmitter.js';
import { generateBranch } from '../../sip/engine/transaction/requestBuilders.js';
import { responseDestination } from '../../sip/engine/transaction/responseDestination.js';
import { TransactionLayer } from '../../sip/engine/transaction/transactionLayer.js';
import { addTopVia, contactUri } from '../../sip/engine/transport/outgoingHeaders.js';
import { TransportLayer } from '../../sip/engine/transport/transportLayer.js';
import type {
  MessageSource,
  TransportLayerOptions,
  TransportProtocol,
} from '../../sip/engine/transport/transportTypes.js';

const layers: TransportLayer[] = [];
let certDir = '';
let tlsOptions: { key: Buffer; cert: Buffer };

beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), 'sip-engine-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(certDir, 'key.pem'),
      '-out',
      join(certDir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  tlsOptions = { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) };
});

afterAll(() => {
  rmSync(certDir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(layers.splice(0).map((l) => l.close()));
});

async function makeLayer(
  transports: TransportProtocol[],
  options: TransportLayerOptions = {},
): Promise<TransportLayer> {
  const layer = new TransportLayer({ tls: tlsOptions, tlsClient: { ca: tlsOptions.cert }, ...options });
  layers.push(layer);
  await layer.listen(transports.map((transport) => ({ transport, host: '127.0.0.1', port: 0 })));
  return layer;
}

function portOf(layer: TransportLayer, transport: TransportProtocol): number {
  const l = layer.boundListeners().find((b) => b.transport === transport);
  if (!l) throw new Error(`no ${transport} listener`);
  return l.port;
}

function options(from: TransportLayer, transport: TransportProtocol): SipRequest {
  const sentBy = from.sentBy(transport, '127.0.0.1');
  const { host, port } = sentBy;
  const headers = new SipHeaders()
    .append('Max-Forwards', '70')
    .append('From', `<sip:client@${host}:${port}>;tag=abc`)
    .append('To', '<sip:probe@127.0.0.1>')
    .append('Call-ID', generateBranch())
    .append('CSeq', '1 OPTIONS')
    .append('Contact', `<${contactUri(sentBy, transport, 'client')}>`);
  const msg: SipRequest = {
    kind: 'request',
    method: 'OPTIONS',
    uri: 'sip:probe@127.0.0.1',
    headers,
    body: Buffer.alloc(0),
  };
  addTopVia(msg, transport, sentBy, generateBranch());
  return msg;
}

function nextMessage(layer: TransportLayer): Promise<[SipMessage, MessageSource]> {
  return once(layer, 'message') as Promise<[SipMessage, MessageSource]>;
}

describe.each(['udp', 'tcp', 'tls'] as const)('%s transport', (transport) => {
  it('delivers a request, stamps rport/received, and routes the response back', async () => {
    const server = await makeLayer([transport]);
    const client = await makeLayer([transport]);
    const arrived = nextMessage(server);
    const sent = await client.send(options(client, transport), {
      transport,
      address: '127.0.0.1',
      port: portOf(server, transport),
    });
    expect(sent.data.toString()).toContain('OPTIONS sip:probe@127.0.0.1 SIP/2.0');
    const [req, source] = await arrived;
    if (req.kind !== 'request') throw new Error('expected a request');
    expect(source.transport).toBe(transport);
    expect(source.address).toBe('127.0.0.1');
    expect(source.localPort).toBe(portOf(server, transport));
    const via = parseVia(req.headers.get('Via') ?? '');
    expect(via.params.get('rport')).toBe(String(source.port));
    expect(via.params.get('received')).toBe('127.0.0.1');

    const back = nextMessage(client);
    const dest = responseDestination(req, source);
    if (transport !== 'udp') expect(dest.connectionId).toBe(source.connectionId);
    const res = await server.send(createResponse(req, 200, { toTag: 'xyz' }), dest);
    if (transport !== 'udp') expect(res.connectionId).toBe(source.connectionId);
    const [response] = await back;
    expect(response.kind === 'response' && response.status).toBe(200);
    if (transport !== 'udp') {
      // The response came back on the client's own connection: one connection each side.
      expect(client.connectionCounts().total).toBe(1);
      expect(server.connectionCounts()[transport]).toBe(1);
    }
  });
});

describe('stream connections', () => {
  it('frames fragmented TCP input, answers CRLFCRLF pings, and reuses the connection', async () => {
    const server = await makeLayer(['tcp']);
    const socket = netConnect({ host: '127.0.0.1', port: portOf(server, 'tcp') });
    await once(socket, 'connect');
    const received: SipMessage[] = [];
    server.on('message', (m) => received.push(m));
    const wire = Buffer.from(
      [
        'MESSAGE sip:a@127.0.0.1 SIP/2.0',
        'v: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKfrag',
        'Max-Forwards: 70',
        'f: <sip:b@127.0.0.1>;tag=1',
        't: <sip:a@127.0.0.1>',
        'i: frag-1',
        'CSeq: 1 MESSAGE',
        'l: 5',
        '',
        'hello',
      ].join('\r\n'),
    );
    const pong = once(socket, 'data');
    socket.write('\r\n\r\n');
    expect((await pong)[0].toString()).toBe('\r\n');
    const first = nextMessage(server);
    for (let i = 0; i < wire.length; i += 13) {
      socket.write(wire.subarray(i, i + 13));
      await new Promise((r) => setImmediate(r));
    }
    const [msg] = await first;
    expect(msg.body.toString()).toBe('hello');
    const second = nextMessage(server);
    socket.write(Buffer.concat([wire, wire]));
    await second;
    if (received.length < 3) await nextMessage(server);
    expect(received).toHaveLength(3);
    expect(server.connectionCounts().tcp).toBe(1);
    socket.destroy();
    await once(server, 'connectionClosed');
    expect(server.connectionCounts().total).toBe(0);
  });

  it('reports a framing error and closes the connection', async () => {
    const server = await makeLayer(['tcp']);
    const socket = netConnect({ host: '127.0.0.1', port: portOf(server, 'tcp') });
    await once(socket, 'connect');
    const error = once(server, 'parseError');
    socket.write('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n');
    const [err, raw] = await error;
    expect(err.reason).toBe('missing Content-Length');
    // The header section comes along, so the request can still be answered with 400.
    expect(String(raw)).toContain('OPTIONS sip:a@b SIP/2.0');
    await once(socket, 'close');
  });

  it('closes idle connections', async () => {
    const server = await makeLayer(['tcp'], { idleTimeoutMs: 150, idleSweepMs: 25 });
    const opened = once(server, 'connectionOpened');
    const socket = netConnect({ host: '127.0.0.1', port: portOf(server, 'tcp') });
    await opened;
    expect(server.connectionCounts().tcp).toBe(1);
    const [info] = await once(server, 'connectionClosed');
    expect(info.direction).toBe('inbound');
    await once(socket, 'close');
    expect(server.connectionCounts().total).toBe(0);
  });

  it('serves TLS without ALPN and without asking for a client certificate', async () => {
    const server = await makeLayer(['tls']);
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: portOf(server, 'tls'),
      ca: tlsOptions.cert,
      servername: 'localhost',
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    await once(socket, 'secureConnect');
    expect(socket.alpnProtocol).toBe(false);
    expect(socket.authorized).toBe(true);
    const arrived = nextMessage(server);
    socket.write(
      'OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bKtls\r\nMax-Forwards: 70\r\n' +
        'From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: tls-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    );
    const [, source] = await arrived;
    expect(source.transport).toBe('tls');
    socket.destroy();
  });

  it('reuses one outbound connection for a peer named by host name', async () => {
    const server = await makeLayer(['tcp']);
    const client = await makeLayer(['tcp']);
    const dest = { transport: 'tcp' as const, address: 'localhost', port: portOf(server, 'tcp') };
    const first = nextMessage(server);
    const a = await client.send(options(client, 'tcp'), dest);
    await first;
    const second = nextMessage(server);
    const b = await client.send(options(client, 'tcp'), dest);
    await second;
    expect(b.connectionId).toBe(a.connectionId);
    expect(client.connectionCounts().tcp).toBe(1);
  });

  it('refuses an outgoing TLS connection whose certificate it cannot verify', async () => {
    const server = await makeLayer(['tls']);
    const client = new TransportLayer({ tls: tlsOptions });
    layers.push(client);
    await client.listen([{ transport: 'tls', host: '127.0.0.1', port: 0 }]);
    await expect(
      client.send(options(client, 'tls'), {
        transport: 'tls',
        address: '127.0.0.1',
        port: portOf(server, 'tls'),
      }),
    ).rejects.toMatchObject({ name: 'TransportError', code: 'connect-failed' });
    expect(client.connectionCounts().total).toBe(0);
  });

  it('advertises a reachable host when bound to every interface', async () => {
    const layer = new TransportLayer();
    layers.push(layer);
    await layer.listen([{ transport: 'udp', host: '0.0.0.0', port: 0 }]);
    const { host, port } = layer.sentBy('udp');
    expect(host).not.toBe('0.0.0.0');
    expect(host).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(port).toBe(portOf(layer, 'udp'));
  });

  it('fails a send to a closed port with a transport error', async () => {
    const client = await makeLayer(['tcp'], { connectTimeoutMs: 2000 });
    const probe = await makeLayer(['tcp']);
    const deadPort = portOf(probe, 'tcp');
    await probe.close();
    await expect(
      client.send(options(client, 'tcp'), { transport: 'tcp', address: '127.0.0.1', port: deadPort }),
    ).rejects.toMatchObject({ name: 'TransportError', code: 'connect-failed' });
  });
});

describe('transaction layer over real sockets', () => {
  it('answers a malformed UDP request with 400 and a reason', async () => {
    const server = await makeLayer(['udp']);
    const txl = new TransactionLayer(server);
    txl.attach(server);
    const peer = createSocket('udp4');
    peer.bind(0, '127.0.0.1');
    await once(peer, 'listening');
    const reply = once(peer, 'message');
    peer.send(
      'INVITE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKm\r\nMax-Forwards: 70\r\n' +
        'From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: bad-1\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n',
      portOf(server, 'udp'),
      '127.0.0.1',
    );
    const [data] = await reply;
    expect(data.toString()).toMatch(/^SIP\/2\.0 400 CSeq method does not match\r\n/);
    peer.close();
    txl.close();
  });

  it('runs an INVITE transaction end to end over UDP with retransmission-safe matching', async () => {
    const server = await makeLayer(['udp']);
    const client = await makeLayer(['udp']);
    const timers = { T1: 50, T4: 100, timerD: 100 };
    const uas = new TransactionLayer(server, { timers });
    const uac = new TransactionLayer(client, { timers });
    uas.attach(server);
    uac.attach(client);
    const uasStates: string[] = [];
    uas.on('request', (req, txn) => {
      txn.on('stateChange', (state) => uasStates.push(state));
      void txn.respond(createResponse(req, 486, { toTag: 'busy' }));
    });
    const invite = options(client, 'udp');
    invite.method = 'INVITE';
    invite.headers.set('CSeq', '1 INVITE');
    const txn = uac.sendRequest(invite, {
      transport: 'udp',
      address: '127.0.0.1',
      port: portOf(server, 'udp'),
    });
    const statuses: number[] = [];
    txn.on('response', (r) => statuses.push(r.status));
    await once(txn, 'terminated');
    expect(statuses).toEqual([100, 486]);
    // The UAS got our ACK, so its transaction confirmed and ended without timer H.
    await new Promise<void>((resolve) => {
      const check = () => (uas.counts().total === 0 ? resolve() : setTimeout(check, 20));
      check();
    });
    expect(uas.counts().total).toBe(0);
    expect(uasStates).toEqual(['completed', 'confirmed', 'terminated']);
    uas.close();
    uac.close();
  });
});

describe('addressing', () => {
  it('carries IPv6 sources and stamps them on the Via', async () => {
    const server = new TransportLayer();
    layers.push(server);
    try {
      await server.listen([{ transport: 'udp', host: '::1', port: 0 }]);
    } catch {
      return; // No IPv6 loopback on this machine.
    }
    const client = new TransportLayer();
    layers.push(client);
    await client.listen([{ transport: 'udp', host: '::1', port: 0, advertisedHost: 'client.example.com' }]);
    expect(client.sentBy('udp', '::1')).toEqual({ host: 'client.example.com', port: portOf(client, 'udp') });
    const arrived = nextMessage(server);
    await client.send(options(client, 'udp'), {
      transport: 'udp',
      address: '::1',
      port: portOf(server, 'udp'),
    });
    const [req, source] = await arrived;
    expect(source.address).toBe('::1');
    const via = parseVia(req.headers.get('Via') ?? '');
    expect(via.host).toBe('client.example.com');
    expect(via.params.get('received')).toBe('::1');
    expect(via.params.get('rport')).toBe(String(portOf(client, 'udp')));
  });
});

const hasSipp = spawnSync('sipp', ['-v']).error === undefined;
const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

function runSipp(args: string[]): Promise<number> {
  const child = spawn('sipp', [...args, '-nostdin', '-i', '127.0.0.1', '-timeout', '60s', '-timeout_error'], {
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
}

describe.skipIf(!hasSipp)('against sipp', () => {
  it('completes 30 sipp uac calls over lossy UDP with 2xx retransmitted until ACK', async () => {
    const server = await makeLayer(['udp']);
    const txl = new TransactionLayer(server, { timers: { T1: 100 } });
    txl.attach(server);
    const awaitingAck = new Map<string, OkRetransmitter>();
    let byes = 0;
    txl.on('request', (req, txn, source) => {
      if (req.method !== 'INVITE') {
        if (req.method === 'BYE') byes++;
        void txn.respond(createResponse(req, 200));
        return;
      }
      const toTag = generateBranch().slice(7);
      void txn.respond(createResponse(req, 180, { toTag }));
      const ok = createResponse(req, 200, { toTag, body: Buffer.from(SDP) });
      ok.headers.append('Contact', `<${contactUri(server.sentBy('udp'), 'udp')}>`);
      ok.headers.append('Content-Type', 'application/sdp');
      void txn.respond(ok);
      const dest = responseDestination(req, source);
      const retransmitter = new OkRetransmitter({
        resend: () => void txl.sendStateless(ok, dest),
        reliable: false,
        timers: txl.timers,
        onTimeout: () => awaitingAck.delete(req.headers.get('Call-ID') ?? ''),
      });
      retransmitter.start();
      awaitingAck.set(req.headers.get('Call-ID') ?? '', retransmitter);
    });
    txl.on('ack', (ack) => awaitingAck.get(ack.headers.get('Call-ID') ?? '')?.acknowledge());
    const code = await runSipp([
      '-sn',
      'uac',
      '-t',
      'u1',
      '-p',
      '0',
      '-m',
      '30',
      '-r',
      '20',
      '-lost',
      '10',
      `127.0.0.1:${portOf(server, 'udp')}`,
    ]);
    // sipp exits 0 only when every call got its 200 to INVITE and to BYE despite the loss.
    expect(code).toBe(0);
    expect(byes).toBeGreaterThan(0);
    for (const r of awaitingAck.values()) r.stop();
    txl.close();
  });

  it('places 10 calls to a sipp uas over TCP on one connection', async () => {
    const client = await makeLayer(['tcp']);
    const txl = new TransactionLayer(client, { timers: { T1: 100 } });
    txl.attach(client);
    const sippPort = portOf(await makeLayer(['tcp']), 'tcp');
    await layers.pop()?.close(); // Free the port for sipp.
    const sipp = runSipp(['-sn', 'uas', '-t', 't1', '-p', String(sippPort), '-m', '10']);
    const dest = { transport: 'tcp' as const, address: '127.0.0.1', port: sippPort };
    const sentBy = client.sentBy('tcp');
    const build = (method: string, callId: string, seq: number, toTag?: string): SipRequest => {
      const headers = new SipHeaders()
        .append('Max-Forwards', '70')
        .append('From', `<sip:me@${sentBy.host}:${sentBy.port}>;tag=f${callId}`)
        .append('To', `<sip:service@127.0.0.1:${sippPort}>${toTag ? `;tag=${toTag}` : ''}`)
        .append('Call-ID', callId)
        .append('CSeq', `${seq} ${method}`)
        .append('Contact', `<${contactUri(sentBy, 'tcp')}>`);
      const req: SipRequest = {
        kind: 'request',
        method,
        uri: `sip:service@127.0.0.1:${sippPort}`,
        headers,
        body: Buffer.alloc(0),
      };
      if (method === 'INVITE') {
        req.body = Buffer.from(SDP);
        headers.append('Content-Type', 'application/sdp');
      }
      addTopVia(req, 'tcp', sentBy, generateBranch());
      return req;
    };
    const finalOf = (txn: ReturnType<TransactionLayer['sendRequest']>) =>
      new Promise<SipResponse>((resolve, reject) => {
        txn.on('response', (r) => r.status >= 200 && resolve(r));
        txn.on('timeout', () => reject(new Error('timeout')));
        txn.on('transportError', reject);
      });
    // sipp needs a moment to listen; retry the first INVITE until the connection is accepted.
    for (let i = 0; i < 10; i++) {
      const callId = `tcp-${i}-${generateBranch()}`;
      let final: SipResponse | undefined;
      for (let attempt = 0; !final; attempt++) {
        try {
          final = await finalOf(txl.sendRequest(build('INVITE', callId, 1), dest));
        } catch (err) {
          if (i > 0 || attempt > 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(final.status).toBe(200);
      const toTag = /;\s*tag=([^;\s]+)/.exec(final.headers.get('To') ?? '')?.[1];
      await txl.sendStateless(build('ACK', callId, 1, toTag), dest);
      const byeFinal = await finalOf(txl.sendRequest(build('BYE', callId, 2, toTag), dest));
      expect(byeFinal.status).toBe(200);
    }
    expect(client.connectionCounts().tcp).toBe(1);
    expect(await sipp).toBe(0);
    txl.close();
  });
});
