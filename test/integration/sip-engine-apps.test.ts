/**
 * A real drachtio-srf 5.0.29 talks to the embedded engine's admin side (AppListener + AppRegistry):
 * authentication, routes, inbound requests, acknowledgements of what the engine "sent", round-robin,
 * disconnects, pings and cdr events. The SIP network side is played by the test through the registry API.
 */
import { EventEmitter, once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import Srf from 'drachtio-srf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppConnection } from '../../sip/engine/apps/AppConnection.js';
import { AppListener } from '../../sip/engine/apps/AppListener.js';
import { AppRegistry } from '../../sip/engine/apps/AppRegistry.js';
import { silentAppsLogger } from '../../sip/engine/apps/appsLogger.js';
import { buildAuthenticate, buildPing, buildRoute } from '../../sip/engine/wire/appCommands.js';
import { encodeFrame, FrameDecoder } from '../../sip/engine/wire/frameCodec.js';
import { parseServerMessage } from '../../sip/engine/wire/serverMessages.js';
import { wireTimeNow } from '../../sip/engine/wire/wireTime.js';
import type { SipCommand, SipMessageMeta } from '../../sip/engine/wire/wireTypes.js';

// ---- the part of drachtio-srf's API the test uses (its bundled typings miss connect options) ----

interface SrfConnectOptions {
  host: string;
  port: number;
  secret: string;
  reconnect?: { maxAttempts?: number };
  enablePing?: boolean;
  pingInterval?: number;
}
interface SrfSipMessage {
  status?: number;
  method?: string;
  get(name: string): string;
}
interface SrfRequest extends EventEmitter {
  method: string;
  uri: string;
  source: string;
  source_address: string;
  source_port: number;
  protocol: string;
  stackTxnId: string;
  stackDialogId: string;
  receivedOn?: string;
  get(name: string): string;
}
interface SrfResponse {
  send(status: number, reason: string, opts: object, cb: (err: unknown, msg: SrfSipMessage) => void): void;
  send(status: number): void;
}
interface SrfApp extends EventEmitter {
  connect(opts: SrfConnectOptions): unknown;
  disconnect(): void;
  invite(handler: (req: SrfRequest, res: SrfResponse) => void): void;
  createUAS(req: SrfRequest, res: SrfResponse, opts: { localSdp: string }): Promise<SrfDialog>;
  createUAC(uri: string, opts: { localSdp: string }): Promise<SrfDialog>;
  request(
    uri: string,
    opts: { method: string; headers?: Record<string, string> },
    cb: RequestCallback,
  ): unknown;
}
interface SrfDialog extends EventEmitter {
  id: string;
  sip: { callId: string; localTag: string };
  destroy(): Promise<void>;
}
type RequestCallback = (err: Error | null, req: SrfRequest) => void;

const SECRET = 'wire-secret';
const LOCAL_SDP =
  'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';
const HOSTPORTS = ['udp/127.0.0.1:5060', 'tcp/127.0.0.1:5060'];

function networkMeta(rawSip: string): SipMessageMeta {
  return {
    source: 'network',
    bytes: Buffer.byteLength(rawSip),
    protocol: 'udp',
    address: '192.0.2.10',
    port: 5062,
    time: wireTimeNow(),
  };
}
function sentMeta(rawSip: string): SipMessageMeta {
  return { ...networkMeta(rawSip), source: 'application', address: '127.0.0.1', port: 5060 };
}

function inviteFrom(callId: string): string {
  const body =
    'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  return [
    'INVITE sip:+15550100@127.0.0.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-test-1;rport',
    'Max-Forwards: 70',
    'From: "Alice" <sip:+15550199@192.0.2.10>;tag=alice-tag',
    'To: <sip:+15550100@127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@192.0.2.10:5062>',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** Resolves with the args of the next `event` that satisfies `predicate`. */
function nextEvent<T extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  predicate: (...args: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const listener = (...args: unknown[]): void => {
      if (!predicate(...(args as T))) return;
      emitter.off(event, listener);
      resolve(args as T);
    };
    emitter.on(event, listener);
  });
}

describe('embedded engine admin side with a real drachtio-srf', () => {
  let registry: AppRegistry;
  let listener: AppListener;
  let port: number;
  const apps: SrfApp[] = [];

  beforeEach(async () => {
    registry = new AppRegistry();
    listener = new AppListener({
      address: '127.0.0.1',
      port: 0,
      secret: SECRET,
      registry,
      hostports: () => HOSTPORTS,
      logger: silentAppsLogger,
    });
    ({ port } = await listener.listen());
  });

  afterEach(async () => {
    for (const srf of apps.splice(0)) {
      try {
        srf.disconnect();
      } catch {
        // already disconnected by the server
      }
    }
    await listener.close();
  });

  /** A new srf app; `configure` registers handlers before connecting, as apps usually do. */
  async function connectApp(
    configure: (srf: SrfApp) => void = () => {},
    extra: Partial<SrfConnectOptions> = {},
  ): Promise<{ srf: SrfApp; hostport: string; version: string; connection: AppConnection }> {
    const srf = new Srf() as unknown as SrfApp;
    apps.push(srf);
    srf.on('error', () => {});
    configure(srf);
    const registered = nextEvent<[AppConnection]>(registry, 'connected');
    const connected = once(srf, 'connect');
    srf.connect({ host: '127.0.0.1', port, secret: SECRET, reconnect: { maxAttempts: 1 }, ...extra });
    const [err, hostport, version] = (await connected) as [Error | null, string, string];
    expect(err).toBeNull();
    const [connection] = await registered;
    return { srf, hostport, version, connection };
  }

  it('authenticates srf and reports the hostports and a vX.Y.Z version', async () => {
    const { hostport, version } = await connectApp();
    expect(hostport).toBe('udp/127.0.0.1:5060,tcp/127.0.0.1:5060');
    expect(version).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(registry.hasApps()).toBe(true);
    expect(registry.counts()).toMatchObject({ connections: 1, authenticated: 1 });
  });

  it('refuses a wrong secret: srf reports the failure and the engine closes the connection', async () => {
    const srf = new Srf() as unknown as SrfApp;
    apps.push(srf);
    srf.on('error', () => {});
    const disconnected = nextEvent<[AppConnection, string]>(registry, 'disconnected');
    const connected = once(srf, 'connect');
    srf.connect({ host: '127.0.0.1', port, secret: 'not-the-secret', reconnect: { maxAttempts: 1 } });
    const [err] = (await connected) as [Error];
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/failed to authenticate/);
    const [, reason] = await disconnected;
    expect(reason).toBe('incorrect-secret');
    expect(registry.hasApps()).toBe(false);
  });

  it('routes an INVITE to srf, and carries its 486 back with the transaction id', async () => {
    const handled = new EventEmitter();
    const routed = nextEvent<[AppConnection, string]>(registry, 'route', (_c, verb) => verb === 'invite');
    const { connection } = await connectApp((srf) =>
      srf.invite((req, res) => {
        handled.emit('invite', req);
        res.send(486, 'Busy Here', {}, (err, msg) => handled.emit('sent', err, msg));
      }),
    );
    await routed;
    expect(registry.isRouted('INVITE')).toBe(true);
    expect(registry.pick('INVITE')).toBe(connection);

    const invite = inviteFrom('call-486@192.0.2.10');
    const appCommand = nextEvent<[AppConnection, SipCommand]>(registry, 'sip');
    const inviteSeen = once(handled, 'invite');
    connection.sendSip({
      meta: networkMeta(invite),
      txnId: 'txn-486',
      dialogId: '',
      rawSip: invite,
      receivedOn: { address: '127.0.0.1', port: 5060 },
    });

    const [req] = (await inviteSeen) as [SrfRequest];
    expect(req.method).toBe('INVITE');
    expect(req.get('Call-ID')).toBe('call-486@192.0.2.10');
    expect(req.get('From')).toBe('"Alice" <sip:+15550199@192.0.2.10>;tag=alice-tag');
    expect(req.get('To')).toBe('<sip:+15550100@127.0.0.1>');
    expect(req.stackTxnId).toBe('txn-486');
    expect(req.source).toBe('network');
    expect(req.source_address).toBe('192.0.2.10');
    expect(req.source_port).toBe(5062);
    expect(req.protocol).toBe('udp');
    expect(req.receivedOn).toBe('127.0.0.1:5060');

    const [from, command] = await appCommand;
    expect(from).toBe(connection);
    expect(command.txnId).toBe('txn-486');
    expect(command.dialogId).toBe('');
    expect(command.rawSip.split('\r\n')[0]).toBe('SIP/2.0 486 Busy Here');
    expect(command.rawSip).toContain('Call-ID: call-486@192.0.2.10');
    expect(connection.hasPending(command.msgId)).toBe(true);

    // The engine acknowledges with the response as it went out; srf's send callback receives it.
    const sent = once(handled, 'sent');
    const wire = command.rawSip.replace(
      'SIP/2.0 486 Busy Here\r\n',
      'SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-test-1;rport=5062\r\n',
    );
    expect(
      connection.ackResponseSent(
        command.msgId,
        sentMeta(wire),
        'txn-486',
        'call-486@192.0.2.10;from-tag=alice-tag',
        wire,
      ),
    ).toBe(true);
    const [err, msg] = (await sent) as [unknown, SrfSipMessage];
    expect(err).toBeNull();
    expect(msg.status).toBe(486);
    expect(msg.get('Via')).toContain('branch=z9hG4bK-test-1');
    expect(connection.pendingCount).toBe(0);
  });

  it('acknowledges a request srf sends and delivers the network response by transaction id', async () => {
    const { srf, connection } = await connectApp();
    const appCommand = nextEvent<[AppConnection, SipCommand]>(registry, 'sip');
    const requestSent = new Promise<[Error | null, SrfRequest]>((resolve) => {
      srf.request('sip:bob@192.0.2.20', { method: 'OPTIONS', headers: { 'X-Test': 'yes' } }, (err, req) =>
        resolve([err, req]),
      );
    });
    const [, command] = await appCommand;
    expect(command.txnId).toBe('');
    expect(command.dialogId).toBe('');
    expect(command.rawSip.split('\r\n')[0]).toBe('OPTIONS sip:bob@192.0.2.20 SIP/2.0');
    expect(command.rawSip).toContain('X-Test: yes');

    const asSent = [
      'OPTIONS sip:bob@192.0.2.20 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-out-1;rport',
      'Max-Forwards: 70',
      'From: <sip:127.0.0.1:5060>;tag=engine-tag',
      'To: <sip:bob@192.0.2.20>',
      'Call-ID: out-call-1',
      'CSeq: 1 OPTIONS',
      'X-Test: yes',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    connection.ackRequestSent(command.msgId, sentMeta(asSent), 'txn-out-1', asSent);
    const [err, req] = await requestSent;
    expect(err).toBeNull();
    expect(req.stackTxnId).toBe('txn-out-1');
    expect(req.get('Call-ID')).toBe('out-call-1');

    const gotResponse = once(req, 'response');
    const ok = [
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-out-1;rport=5060',
      'From: <sip:127.0.0.1:5060>;tag=engine-tag',
      'To: <sip:bob@192.0.2.20>;tag=bob-tag',
      'Call-ID: out-call-1',
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    connection.sendSip({ meta: networkMeta(ok), txnId: 'txn-out-1', dialogId: '', rawSip: ok });
    const [res] = (await gotResponse) as [SrfSipMessage & { status: number }];
    expect(res.status).toBe(200);
  });

  it('reports a NOK to srf as an error on the request', async () => {
    const { srf, connection } = await connectApp();
    const appCommand = nextEvent<[AppConnection, SipCommand]>(registry, 'sip');
    const result = new Promise<Error | null>((resolve) => {
      srf.request('sip:nobody@192.0.2.30', { method: 'OPTIONS' }, (err) => resolve(err));
    });
    const [, command] = await appCommand;
    connection.reject(command.msgId, 'unable to find dialog');
    const err = await result;
    expect(err?.message).toBe('unable to find dialog');
    expect((err as Error & { code?: string }).code).toBe('ENODIALOG');
  });

  it('alternates INVITEs between two apps and drops an app’s routes when it disconnects', async () => {
    const seen: string[] = [];
    const handled = new EventEmitter();
    const makeApp = (name: string) => (srf: SrfApp) =>
      srf.invite((_req, res) => {
        seen.push(name);
        res.send(486);
        handled.emit('invite');
      });
    const routedA = nextEvent(registry, 'route');
    const a = await connectApp(makeApp('a'));
    await routedA;
    const routedB = nextEvent(registry, 'route');
    const b = await connectApp(makeApp('b'));
    await routedB;
    expect(registry.counts().routes).toEqual({ invite: 2 });

    for (let i = 0; i < 4; i++) {
      const picked = registry.pick('invite');
      expect(picked).toBeDefined();
      const invite = inviteFrom(`rr-${i}`);
      const done = once(handled, 'invite');
      picked?.sendSip({ meta: networkMeta(invite), txnId: `rr-txn-${i}`, dialogId: '', rawSip: invite });
      await done;
    }
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen).toEqual([seen[0], seen[1], seen[0], seen[1]]);

    const gone = nextEvent<[AppConnection, string]>(registry, 'disconnected');
    b.srf.disconnect();
    const [closed, reason] = await gone;
    expect(closed).toBe(b.connection);
    expect(reason).toBe('peer-closed');
    expect(registry.counts().routes).toEqual({ invite: 1 });
    expect(registry.pick('invite')).toBe(a.connection);
    expect(registry.pick('invite')).toBe(a.connection);
  });

  it('carries a UAS dialog: 200 acknowledged with the dialog id, network ACK, BYE from the network', async () => {
    const events = new EventEmitter();
    const routed = nextEvent(registry, 'route');
    const { connection } = await connectApp((srf) =>
      srf.invite((req, res) => {
        srf.createUAS(req, res, { localSdp: LOCAL_SDP }).then(
          (dialog) => {
            dialog.on('ack', () => events.emit('ack'));
            dialog.on('destroy', (_bye: unknown, reason: string) => events.emit('destroy', reason));
            events.emit('dialog', dialog);
          },
          (err: unknown) => events.emit('failed', err),
        );
      }),
    );
    await routed;
    const invite = inviteFrom('call-uas');
    const dialogId = 'call-uas;from-tag=alice-tag';

    const ok = nextEvent<[AppConnection, SipCommand]>(registry, 'sip');
    connection.sendSip({ meta: networkMeta(invite), txnId: 'txn-uas', dialogId: '', rawSip: invite });
    const [, command] = await ok;
    expect(command.txnId).toBe('txn-uas');
    expect(command.rawSip.split('\r\n')[0]).toBe('SIP/2.0 200 OK');
    expect(command.rawSip).toContain('v=0');

    // What the engine puts on the wire: To-tag added, Contact filled.
    const wire200 = command.rawSip.replace(
      /^to: (.*)$/im,
      'To: $1;tag=engine-to-tag\r\nContact: <sip:127.0.0.1:5060>\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-test-1',
    );
    const dialogReady = once(events, 'dialog');
    connection.ackResponseSent(command.msgId, sentMeta(wire200), 'txn-uas', dialogId, wire200);
    const [dialog] = (await dialogReady) as [{ id: string; sip: { callId: string; localTag: string } }];
    expect(dialog.id).toBe(dialogId);
    expect(dialog.sip.callId).toBe('call-uas');
    expect(dialog.sip.localTag).toBe('engine-to-tag');

    const ack = [
      'ACK sip:127.0.0.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-ack-1',
      'From: "Alice" <sip:+15550199@192.0.2.10>;tag=alice-tag',
      'To: <sip:+15550100@127.0.0.1>;tag=engine-to-tag',
      'Call-ID: call-uas',
      'CSeq: 1 ACK',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const acked = once(events, 'ack');
    // drachtio-server passes a network ACK with the INVITE's transaction id and the dialog id.
    connection.sendSip({ meta: networkMeta(ack), txnId: 'txn-uas', dialogId, rawSip: ack });
    await acked;

    const bye = ack
      .replace('ACK sip:', 'BYE sip:')
      .replace('CSeq: 1 ACK', 'CSeq: 2 BYE')
      .replace('ack-1', 'bye-1');
    const byeAnswer = nextEvent<[AppConnection, SipCommand]>(registry, 'sip');
    const destroyed = once(events, 'destroy');
    connection.sendSip({ meta: networkMeta(bye), txnId: 'txn-bye', dialogId, rawSip: bye });
    const [reason] = await destroyed;
    expect(reason).toBe('normal release');
    const [, byeOk] = await byeAnswer;
    expect(byeOk.txnId).toBe('txn-bye');
    expect(byeOk.rawSip.split('\r\n')[0]).toBe('SIP/2.0 200 OK');
  });

  it('sends an in-dialog BYE from the app with the dialog id, and tells the app about an unsolicited BYE', async () => {
    const events = new EventEmitter();
    const routed = nextEvent(registry, 'route');
    const { connection } = await connectApp((srf) =>
      srf.invite((req, res) => {
        srf.createUAS(req, res, { localSdp: LOCAL_SDP }).then((dialog) => {
          dialog.on('destroy', (_bye: unknown, reason: string) => events.emit('destroy', reason));
          events.emit('dialog', dialog);
        });
      }),
    );
    await routed;

    async function establish(callId: string): Promise<{ destroy(): Promise<void> }> {
      const invite = inviteFrom(callId);
      const ok = nextEvent<[AppConnection, SipCommand]>(registry, 'sip');
      connection.sendSip({ meta: networkMeta(invite), txnId: `txn-${callId}`, dialogId: '', rawSip: invite });
      const [, command] = await ok;
      const wire = command.rawSip.replace(/^to: (.*)$/im, 'To: $1;tag=t-1\r\nContact: <sip:127.0.0.1:5060>');
      const ready = once(events, 'dialog');
      connection.ackResponseSent(
        command.msgId,
        sentMeta(wire),
        `txn-${callId}`,
        `${callId};from-tag=alice-tag`,
        wire,
      );
      const [dialog] = (await ready) as [{ destroy(): Promise<void> }];
      return dialog;
    }

    // App hangs up: `sip||<dialogId>` with a placeholder request line.
    const first = await establish('call-app-bye');
    const byeCommand = nextEvent<[AppConnection, SipCommand]>(registry, 'sip');
    const destroyDone = first.destroy();
    const [, bye] = await byeCommand;
    expect(bye.txnId).toBe('');
    expect(bye.dialogId).toBe('call-app-bye;from-tag=alice-tag');
    expect(bye.rawSip.split('\r\n')[0]).toMatch(/^BYE sip:.* SIP\/2\.0$/);
    const byeWire = [
      'BYE sip:alice@192.0.2.10:5062 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-bye-out',
      'From: <sip:+15550100@127.0.0.1>;tag=t-1',
      'To: "Alice" <sip:+15550199@192.0.2.10>;tag=alice-tag',
      'Call-ID: call-app-bye',
      'CSeq: 1 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    connection.ackRequestSent(bye.msgId, sentMeta(byeWire), 'txn-bye-out', byeWire);
    const byeOk = byeWire
      .replace('BYE sip:alice@192.0.2.10:5062 SIP/2.0', 'SIP/2.0 200 OK')
      .replace('Content-Length: 0', 'Content-Length: 0');
    connection.sendSip({
      meta: networkMeta(byeOk),
      txnId: 'txn-bye-out',
      dialogId: bye.dialogId,
      rawSip: byeOk,
    });
    await destroyDone;

    // The engine itself ended the dialog (e.g. no ACK): `sip|application|…|unsolicited|<dialogId>|`.
    await establish('call-unsolicited');
    const destroyed = once(events, 'destroy');
    const unsolicited = byeWire
      .replaceAll('call-app-bye', 'call-unsolicited')
      .replace('Content-Length: 0', 'Reason: SIP ;cause=200 ;text="ACK timeout"\r\nContent-Length: 0');
    connection.sendSip({
      meta: sentMeta(unsolicited),
      txnId: 'unsolicited',
      dialogId: 'call-unsolicited;from-tag=alice-tag',
      rawSip: unsolicited,
    });
    const [reason] = await destroyed;
    expect(reason).toBe('ACK timeout');
    expect(connection.pendingCount).toBe(0);
  });

  it('carries a UAC dialog: INVITE acknowledged with its txnId, 200 matched by txnId with the dialog id, ACK', async () => {
    const { srf, connection } = await connectApp();
    const inviteCommand = nextEvent<[AppConnection, SipCommand]>(registry, 'sip');
    const dialogPromise = srf.createUAC('sip:bob@192.0.2.20', { localSdp: LOCAL_SDP });
    const [, invite] = await inviteCommand;
    expect(invite.txnId).toBe('');
    expect(invite.dialogId).toBe('');
    expect(invite.rawSip.split('\r\n')[0]).toBe('INVITE sip:bob@192.0.2.20 SIP/2.0');

    const dialogId = 'uac-call;from-tag=engine-from-tag';
    const inviteWire = [
      'INVITE sip:bob@192.0.2.20 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-uac-1;rport',
      'Max-Forwards: 70',
      'From: <sip:127.0.0.1:5060>;tag=engine-from-tag',
      'To: <sip:bob@192.0.2.20>',
      'Call-ID: uac-call',
      'CSeq: 1 INVITE',
      'Contact: <sip:127.0.0.1:5060>',
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(LOCAL_SDP)}`,
      '',
      LOCAL_SDP,
    ].join('\r\n');
    connection.ackRequestSent(invite.msgId, sentMeta(inviteWire), 'txn-uac', inviteWire);

    const response = (status: string): string =>
      inviteWire
        .replace('INVITE sip:bob@192.0.2.20 SIP/2.0', `SIP/2.0 ${status}`)
        .replace('To: <sip:bob@192.0.2.20>', 'To: <sip:bob@192.0.2.20>;tag=bob-tag')
        .replace('Contact: <sip:127.0.0.1:5060>', 'Contact: <sip:bob@192.0.2.20:5070>')
        .replace('Max-Forwards: 70\r\n', '');
    const ringing = response('180 Ringing').replace(/Content-Type[\s\S]*$/, 'Content-Length: 0\r\n\r\n');
    connection.sendSip({ meta: networkMeta(ringing), txnId: 'txn-uac', dialogId, rawSip: ringing });

    // srf answers a 2xx with `sip||<dialogId>` carrying ACK; the dialog id is token[9] of the 200.
    const ackCommand = nextEvent<[AppConnection, SipCommand]>(registry, 'sip');
    const ok = response('200 OK');
    connection.sendSip({ meta: networkMeta(ok), txnId: 'txn-uac', dialogId, rawSip: ok });
    const [, ack] = await ackCommand;
    expect(ack.dialogId).toBe(dialogId);
    expect(ack.rawSip.split('\r\n')[0]).toMatch(/^ACK sip:.* SIP\/2\.0$/);
    connection.ackRequestSent(ack.msgId, sentMeta(ack.rawSip), 'txn-ack', ack.rawSip);

    const dialog = await dialogPromise;
    expect(dialog.id).toBe(dialogId);
    expect(dialog.sip.callId).toBe('uac-call');
    expect(connection.pendingCount).toBe(0);
  });

  it('turns a network CANCEL for a pending INVITE into srf’s cancel event', async () => {
    const events = new EventEmitter();
    const routed = nextEvent(registry, 'route');
    const { connection } = await connectApp((srf) =>
      srf.invite((req) => {
        events.emit('invite');
        req.on('cancel', () => events.emit('cancel'));
      }),
    );
    await routed;
    const invite = inviteFrom('call-cancel');
    const seen = once(events, 'invite');
    connection.sendSip({ meta: networkMeta(invite), txnId: 'txn-cancel', dialogId: '', rawSip: invite });
    await seen;
    const cancel = invite
      .split('\r\n\r\n')[0]
      ?.replace('INVITE sip:', 'CANCEL sip:')
      .replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL')
      .replace(/Content-Type[\s\S]*$/, 'Content-Length: 0');
    const canceled = once(events, 'cancel');
    connection.sendSip({
      meta: networkMeta(`${cancel}\r\n\r\n`),
      txnId: 'txn-cancel',
      dialogId: '',
      rawSip: `${cancel}\r\n\r\n`,
    });
    await canceled;
  });

  it('frames multi-byte UTF-8 SIP by bytes, as srf expects, in both directions', async () => {
    const events = new EventEmitter();
    const routed = nextEvent(registry, 'route');
    const { connection } = await connectApp((srf) =>
      srf.invite((req, res) => {
        events.emit('invite', req);
        res.send(603, 'Décliné ✋', {}, () => {});
      }),
    );
    await routed;
    const invite = inviteFrom('call-utf8').replace('"Alice"', '"Zoë 😀 中文"');
    const seen = once(events, 'invite');
    const secondSeen = nextEvent<[SrfRequest]>(events, 'invite', (r) => r.get('Call-ID') === 'call-utf8-2');
    const answer = nextEvent<[AppConnection, SipCommand]>(registry, 'sip');
    // Two frames in a row: a byte/character mix-up would corrupt the second one.
    connection.sendSip({ meta: networkMeta(invite), txnId: 'txn-utf8', dialogId: '', rawSip: invite });
    connection.sendSip({
      meta: networkMeta(invite),
      txnId: 'txn-utf8-2',
      dialogId: '',
      rawSip: invite.replace('call-utf8', 'call-utf8-2'),
    });
    const [req] = (await seen) as [SrfRequest];
    expect(req.get('From')).toContain('"Zoë 😀 中文"');
    const [second] = (await secondSeen) as [SrfRequest];
    expect(second.get('Call-ID')).toBe('call-utf8-2');
    const [, command] = await answer;
    expect(command.rawSip.split('\r\n')[0]).toBe('SIP/2.0 603 Décliné ✋');
  });

  it('answers srf’s pings (srf pings when enabled and the server version is at least v0.8.2)', async () => {
    const { connection } = await connectApp(() => {}, { enablePing: true, pingInterval: 5000 });
    await once(connection, 'ping');
    expect(connection.isAuthenticated).toBe(true);
  }, 15_000);

  it('delivers cdr events to an app that subscribed to them', async () => {
    const routed = nextEvent<[AppConnection, string]>(registry, 'route', (_c, v) => v === 'cdr:stop');
    const cdr = new EventEmitter();
    await connectApp((srf) =>
      srf.on('cdr:stop', (source: string, time: string, reason: string, msg: SrfSipMessage) =>
        cdr.emit('stop', source, time, reason, msg),
      ),
    );
    await routed;
    const target = registry.pickCdr('stop');
    expect(target).toBeDefined();
    const received = once(cdr, 'stop');
    const bye = 'BYE sip:a@192.0.2.10 SIP/2.0\r\nCall-ID: cdr-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n';
    target?.sendCdr({
      event: 'stop',
      source: 'network',
      time: '01:02:03.000004',
      rawSip: bye,
      detail: 'normal-release',
    });
    const [source, time, reason, msg] = (await received) as [string, string, string, SrfSipMessage];
    expect([source, time, reason]).toEqual(['network', '01:02:03.000004', 'normal-release']);
    expect(msg.get('Call-ID')).toBe('cdr-1');
  });
});

describe('admin protocol edge cases over a raw socket', () => {
  let registry: AppRegistry;
  let listener: AppListener;
  let port: number;

  beforeEach(async () => {
    registry = new AppRegistry();
    listener = new AppListener({
      address: '127.0.0.1',
      port: 0,
      secret: SECRET,
      registry,
      hostports: () => HOSTPORTS,
      logger: silentAppsLogger,
    });
    ({ port } = await listener.listen());
  });

  afterEach(async () => {
    await listener.close();
  });

  /** A raw client that collects decoded server messages. */
  async function rawClient(): Promise<{ socket: Socket; messages: EventEmitter; closed: Promise<unknown> }> {
    const socket = netConnect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const messages = new EventEmitter();
    const decoder = new FrameDecoder(1_000_000);
    socket.on('data', (chunk: Buffer) => {
      for (const body of decoder.push(chunk)) messages.emit('message', parseServerMessage(body));
    });
    return { socket, messages, closed: once(socket, 'close') };
  }

  it('refuses commands before authentication and closes', async () => {
    const { socket, messages, closed } = await rawClient();
    const reply = once(messages, 'message');
    socket.write(encodeFrame(buildRoute({ msgId: 'r1', verb: 'invite' })));
    const [message] = await reply;
    expect(message).toMatchObject({
      kind: 'response',
      requestMsgId: 'r1',
      ok: false,
      args: ['NO', 'authentication required'],
    });
    await closed;
    expect(registry.counts().routes).toEqual({});
  });

  it('answers ping with pong and route with OK once authenticated; pipelined frames in one write', async () => {
    const { socket, messages } = await rawClient();
    const replies: unknown[] = [];
    const three = new Promise<void>((resolve) =>
      messages.on('message', (m) => {
        replies.push(m);
        if (replies.length === 3) resolve();
      }),
    );
    socket.write(
      Buffer.concat([
        encodeFrame(buildAuthenticate({ msgId: 'a1', secret: SECRET, tags: ['t'] })),
        encodeFrame(buildPing({ msgId: 'p1' })),
        encodeFrame(buildRoute({ msgId: 'r1', verb: 'OPTIONS' })),
      ]),
    );
    await three;
    expect(replies).toMatchObject([
      { requestMsgId: 'a1', args: ['OK', HOSTPORTS.join(','), 'v0.8.10'] },
      { requestMsgId: 'p1', args: ['OK', 'pong'] },
      { requestMsgId: 'r1', args: ['OK'] },
    ]);
    expect(registry.isRouted('options')).toBe(true);
    expect(registry.list()[0]?.tags).toEqual(['t']);
    socket.destroy();
  });

  it('closes the connection on a malformed frame and on an unknown command', async () => {
    const bad = await rawClient();
    bad.socket.write('xyz#oops');
    await bad.closed;

    const unknown = await rawClient();
    unknown.socket.write(encodeFrame(buildAuthenticate({ msgId: 'a', secret: SECRET, tags: [] })));
    await once(unknown.messages, 'message');
    const reply = once(unknown.messages, 'message');
    unknown.socket.write(encodeFrame('u1|frobnicate|x'));
    const [message] = await reply;
    expect(message).toMatchObject({ requestMsgId: 'u1', ok: false, args: ['NO', 'Unknown message type'] });
    await unknown.closed;
  });
});
