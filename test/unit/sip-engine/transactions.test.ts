import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse } from '../../../sip/engine/message/createResponse.js';
import type { SipRequest, SipResponse } from '../../../sip/engine/message/messageTypes.js';
import { parseMessage } from '../../../sip/engine/message/parseMessage.js';
import { InviteClientTransaction } from '../../../sip/engine/transaction/inviteClientTransaction.js';
import { OkRetransmitter } from '../../../sip/engine/transaction/okRetransmitter.js';
import { buildCancel } from '../../../sip/engine/transaction/requestBuilders.js';
import type { ServerTransaction } from '../../../sip/engine/transaction/serverTransaction.js';
import { resolveTimers } from '../../../sip/engine/transaction/timerConfig.js';
import { TransactionLayer } from '../../../sip/engine/transaction/transactionLayer.js';
import type { MessageSource } from '../../../sip/engine/transport/transportTypes.js';
import { FakeTransport } from './fakeTransport.js';
import { sipText } from './sipFixtures.js';

const T = { T1: 100, T2: 400, T4: 500 };
const udpPeer: MessageSource = {
  transport: 'udp',
  address: '192.0.2.7',
  port: 5070,
  localAddress: '127.0.0.1',
  localPort: 5060,
};
const tcpPeer: MessageSource = { ...udpPeer, transport: 'tcp', connectionId: 'conn-1' };

function request(method: string, branch = 'z9hG4bKabc', extra: string[] = []): SipRequest {
  const msg = parseMessage(
    sipText([
      `${method} sip:bob@192.0.2.1 SIP/2.0`,
      `Via: SIP/2.0/UDP 192.0.2.7:5070;branch=${branch};rport`,
      'Max-Forwards: 70',
      'From: <sip:alice@192.0.2.7>;tag=ft',
      'To: <sip:bob@192.0.2.1>',
      'Call-ID: call-1',
      `CSeq: 1 ${method}`,
      ...extra,
      'Content-Length: 0',
    ]),
  );
  if (msg.kind !== 'request') throw new Error('bad fixture');
  return msg;
}

function response(req: SipRequest, status: number, toTag = 'tt'): SipResponse {
  return createResponse(req, status, { toTag });
}

let transport: FakeTransport;
let layer: TransactionLayer;

beforeEach(() => {
  vi.useFakeTimers();
  transport = new FakeTransport();
  layer = new TransactionLayer(transport, { timers: T });
});

afterEach(() => {
  layer.close();
  vi.useRealTimers();
});

function nextServerTxn(): { txn?: ServerTransaction } {
  const holder: { txn?: ServerTransaction } = {};
  layer.once('request', (_req, txn) => {
    holder.txn = txn;
  });
  return holder;
}

describe('INVITE server transaction', () => {
  it('sends 100 at once, repeats the last response to retransmissions and retransmits non-2xx until ACK', async () => {
    const invite = request('INVITE');
    const h = nextServerTxn();
    layer.receive(invite, udpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.summary()).toEqual(['100']);
    // rport without value: the response goes to the source port.
    expect(transport.sent[0]?.dest).toEqual({ transport: 'udp', address: '192.0.2.7', port: 5070 });
    layer.receive(request('INVITE'), udpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.summary()).toEqual(['100', '100']);
    expect(h.txn?.state).toBe('proceeding');

    await h.txn?.respond(response(invite, 486));
    expect(h.txn?.state).toBe('completed');
    // Timer G: T1, then 2*T1, then capped at T2.
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(200);
    await vi.advanceTimersByTimeAsync(400);
    expect(transport.summary()).toEqual(['100', '100', '486', '486', '486', '486']);

    const ack = request('ACK');
    layer.receive(ack, udpPeer);
    expect(h.txn?.state).toBe('confirmed');
    await vi.advanceTimersByTimeAsync(2000);
    expect(transport.summary()).toHaveLength(6);
    // Timer I = T4 over UDP.
    expect(h.txn?.state).toBe('terminated');
    expect(layer.counts().total).toBe(0);
  });

  it('fires timer H when no ACK arrives', async () => {
    const invite = request('INVITE');
    const h = nextServerTxn();
    layer.receive(invite, udpPeer);
    const timeout = vi.fn();
    h.txn?.on('timeout', timeout);
    await h.txn?.respond(response(invite, 603));
    await vi.advanceTimersByTimeAsync(64 * 100);
    expect(timeout).toHaveBeenCalledOnce();
    expect(h.txn?.state).toBe('terminated');
  });

  it('enters Accepted on 2xx, absorbs INVITE retransmissions and passes the 2xx ACK to the TU', async () => {
    const invite = request('INVITE');
    const h = nextServerTxn();
    layer.receive(invite, udpPeer);
    await h.txn?.respond(response(invite, 200));
    expect(h.txn?.state).toBe('accepted');
    layer.receive(request('INVITE'), udpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.summary()).toEqual(['100', '200']);
    const acks = vi.fn();
    layer.on('ack', acks);
    layer.receive(request('ACK', 'z9hG4bKnewbranch'), udpPeer);
    expect(acks).toHaveBeenCalledOnce();
    // TU retransmissions of the 2xx still go out through the Accepted transaction.
    await h.txn?.respond(response(invite, 200));
    expect(transport.summary()).toEqual(['100', '200', '200']);
    await vi.advanceTimersByTimeAsync(64 * 100);
    expect(h.txn?.state).toBe('terminated');
  });

  it('uses no retransmissions and zero timers over TCP, answering on the same connection', async () => {
    const invite = request('INVITE');
    const h = nextServerTxn();
    layer.receive(invite, tcpPeer);
    await h.txn?.respond(response(invite, 480));
    await vi.advanceTimersByTimeAsync(1000);
    expect(transport.summary()).toEqual(['100', '480']);
    expect(transport.sent[1]?.dest.connectionId).toBe('conn-1');
    layer.receive(request('ACK'), tcpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.txn?.state).toBe('terminated');
  });

  it('can leave 100 Trying to the TU', async () => {
    const quiet = new TransactionLayer(transport, { timers: T, autoTrying: false });
    quiet.receive(request('INVITE'), udpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.summary()).toEqual([]);
    await quiet.sendStatelessResponse(request('INVITE'), udpPeer, 100);
    expect(transport.summary()).toEqual(['100']);
    quiet.close();
  });
});

describe('CANCEL', () => {
  it('matches the INVITE server transaction', async () => {
    const invite = request('INVITE');
    const h = nextServerTxn();
    layer.receive(invite, udpPeer);
    const cancels: unknown[] = [];
    layer.on('cancel', (_c, cancelTxn, inviteTxn) => {
      cancels.push(inviteTxn);
      void cancelTxn.respond(response(_c, 200));
      void inviteTxn.respond(response(invite, 487));
    });
    layer.receive(request('CANCEL'), udpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(cancels).toEqual([h.txn]);
    expect(transport.summary()).toEqual(['100', '200', '487']);
    expect(transport.sent[1]?.message.headers.get('CSeq')).toBe('1 CANCEL');
  });

  it('answers 481 to a CANCEL matching nothing', async () => {
    const cancelled = vi.fn();
    layer.on('cancel', cancelled);
    layer.receive(request('CANCEL', 'z9hG4bKunknown'), udpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.summary()).toEqual(['481']);
    expect(cancelled).not.toHaveBeenCalled();
  });
});

describe('non-INVITE server transaction', () => {
  it('absorbs retransmissions in Trying, repeats the final in Completed, ends after timer J', async () => {
    const bye = request('BYE');
    const h = nextServerTxn();
    layer.receive(bye, udpPeer);
    layer.receive(request('BYE'), udpPeer);
    expect(transport.summary()).toEqual([]);
    await h.txn?.respond(response(bye, 200));
    layer.receive(request('BYE'), udpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.summary()).toEqual(['200', '200']);
    expect(layer.counts().nonInviteServer).toBe(1);
    await vi.advanceTimersByTimeAsync(64 * 100);
    expect(layer.counts().total).toBe(0);
  });

  it('reports a transport error and terminates', async () => {
    const opts = request('OPTIONS');
    const h = nextServerTxn();
    layer.receive(opts, udpPeer);
    const errors = vi.fn();
    h.txn?.on('transportError', errors);
    transport.failNext = true;
    const outcome = await h.txn?.respond(response(opts, 200));
    expect(outcome?.ok).toBe(false);
    expect(errors).toHaveBeenCalledOnce();
    expect(layer.counts().total).toBe(0);
  });
});

describe('INVITE client transaction', () => {
  const dest = { transport: 'udp' as const, address: '192.0.2.1', port: 5060 };

  it('retransmits with timer A doubling until a provisional, then ACKs a non-2xx itself', async () => {
    const invite = request('INVITE', 'z9hG4bKclient1', ['Route: <sip:proxy.example.com;lr>']);
    const txn = layer.sendRequest(invite, dest);
    const seen: number[] = [];
    txn.on('response', (r) => seen.push(r.status));
    await vi.advanceTimersByTimeAsync(100 + 200 + 400);
    expect(transport.summary()).toEqual(['INVITE', 'INVITE', 'INVITE', 'INVITE']);
    layer.receive(response(invite, 180), udpPeer);
    await vi.advanceTimersByTimeAsync(3000);
    expect(transport.summary()).toHaveLength(4);
    layer.receive(response(invite, 486), udpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual([180, 486]);
    const ack = transport.sent[4]?.message;
    expect(ack?.kind === 'request' && ack.method).toBe('ACK');
    expect(ack?.headers.get('CSeq')).toBe('1 ACK');
    expect(ack?.headers.get('To')).toContain('tag=tt');
    expect(ack?.headers.get('Via')).toBe(invite.headers.get('Via'));
    expect(ack?.headers.get('Route')).toBe('<sip:proxy.example.com;lr>');
    // A retransmitted final is answered with the ACK again but not passed up.
    layer.receive(response(invite, 486), udpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.summary().slice(-2)).toEqual(['ACK', 'ACK']);
    expect(seen).toEqual([180, 486]);
    await vi.advanceTimersByTimeAsync(64 * 100);
    expect(txn.state).toBe('terminated');
  });

  it('times out with timer B', async () => {
    const txn = layer.sendRequest(request('INVITE', 'z9hG4bKclient2'), dest);
    const timeout = vi.fn();
    txn.on('timeout', timeout);
    await vi.advanceTimersByTimeAsync(64 * 100);
    expect(timeout).toHaveBeenCalledOnce();
    // A: 100, 200, 400, 800, 1600, 3200 -> six retransmissions before 6.4 s.
    expect(transport.summary()).toHaveLength(7);
    expect(layer.counts().inviteClient).toBe(0);
  });

  it('passes 2xx and its retransmissions to the TU in Accepted; strays go to the layer', async () => {
    const invite = request('INVITE', 'z9hG4bKclient3');
    const txn = layer.sendRequest(invite, dest);
    const seen: number[] = [];
    txn.on('response', (r) => seen.push(r.status));
    layer.receive(response(invite, 200), udpPeer);
    layer.receive(response(invite, 200), udpPeer);
    expect(seen).toEqual([200, 200]);
    expect(txn.state).toBe('accepted');
    await vi.advanceTimersByTimeAsync(64 * 100);
    const strays = vi.fn();
    layer.on('strayResponse', strays);
    layer.receive(response(invite, 200), udpPeer);
    expect(strays).toHaveBeenCalledOnce();
  });

  it('reports a transport error on the first send', async () => {
    transport.failNext = true;
    const txn = layer.sendRequest(request('INVITE', 'z9hG4bKclient4'), dest);
    const errors = vi.fn();
    txn.on('transportError', errors);
    const outcome = await txn.sent;
    expect(outcome.ok).toBe(false);
    expect(errors).toHaveBeenCalledOnce();
    expect(layer.counts().total).toBe(0);
  });

  it('builds a CANCEL that matches the INVITE at the server', () => {
    const invite = request('INVITE', 'z9hG4bKclient5');
    const cancel = buildCancel(invite);
    expect(cancel.headers.get('Via')).toBe(invite.headers.get('Via'));
    expect(cancel.headers.get('CSeq')).toBe('1 CANCEL');
    expect(cancel.uri).toBe(invite.uri);
  });
});

describe('non-INVITE client transaction', () => {
  const dest = { transport: 'udp' as const, address: '192.0.2.1', port: 5060 };

  it('retransmits with timer E capped at T2, at T2 once Proceeding, and absorbs after final', async () => {
    const options = request('OPTIONS', 'z9hG4bKnict1');
    const txn = layer.sendRequest(options, dest);
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 400);
    expect(transport.summary()).toHaveLength(5);
    layer.receive(response(options, 100), udpPeer);
    expect(txn.state).toBe('proceeding');
    await vi.advanceTimersByTimeAsync(400);
    expect(transport.summary()).toHaveLength(6);
    const seen: number[] = [];
    txn.on('response', (r) => seen.push(r.status));
    layer.receive(response(options, 200), udpPeer);
    layer.receive(response(options, 200), udpPeer);
    expect(seen).toEqual([200]);
    expect(txn.state).toBe('completed');
    await vi.advanceTimersByTimeAsync(500);
    expect(txn.state).toBe('terminated');
  });

  it('times out with timer F, without retransmitting over TCP', async () => {
    const txn = layer.sendRequest(request('INFO', 'z9hG4bKnict2'), {
      transport: 'tcp',
      address: '192.0.2.1',
      port: 5060,
    });
    const timeout = vi.fn();
    txn.on('timeout', timeout);
    await vi.advanceTimersByTimeAsync(64 * 100);
    expect(timeout).toHaveBeenCalledOnce();
    expect(transport.summary()).toEqual(['INFO']);
  });
});

describe('malformed input', () => {
  it('answers 400 to an unparseable request and reports it', async () => {
    const malformed = vi.fn();
    layer.on('malformed', malformed);
    const raw = sipText([
      'INVITE sip:bob@192.0.2.1 SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bKbad',
      'From: <sip:alice@192.0.2.7>;tag=ft',
      'To: <sip:bob@192.0.2.1>',
      'Call-ID: call-bad',
      'CSeq: 1 INVITE',
    ]);
    const { SipParseError } = await import('../../../sip/engine/message/sipParseError.js');
    layer.receiveMalformed(new SipParseError('missing Max-Forwards header'), raw, udpPeer);
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.summary()).toEqual(['400']);
    const reply = transport.sent[0]?.message;
    expect(reply?.kind === 'response' && reply.reason).toBe('missing Max-Forwards header');
    expect(malformed).toHaveBeenCalledWith(expect.anything(), udpPeer, true);
  });
});

describe('OkRetransmitter', () => {
  it('resends at T1 doubling to T2 and gives up after 64*T1', async () => {
    const resend = vi.fn();
    const onTimeout = vi.fn();
    const r = new OkRetransmitter({ resend, reliable: false, timers: resolveTimers(T), onTimeout });
    r.start();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 400);
    expect(resend).toHaveBeenCalledTimes(4);
    await vi.advanceTimersByTimeAsync(64 * 100);
    expect(onTimeout).toHaveBeenCalledOnce();
    expect(r.active).toBe(false);
  });

  it('stops on ACK and never resends over reliable transports', async () => {
    const resend = vi.fn();
    const onTimeout = vi.fn();
    const r = new OkRetransmitter({ resend, reliable: true, timers: resolveTimers(T), onTimeout });
    r.start();
    await vi.advanceTimersByTimeAsync(1000);
    r.acknowledge();
    await vi.advanceTimersByTimeAsync(64 * 100);
    expect(resend).not.toHaveBeenCalled();
    expect(onTimeout).not.toHaveBeenCalled();
  });
});

describe('leak guards', () => {
  it('ends a non-INVITE server transaction the TU never answers', async () => {
    const h = nextServerTxn();
    layer.receive(request('MESSAGE'), udpPeer);
    const timeout = vi.fn();
    h.txn?.on('timeout', timeout);
    expect(layer.counts().nonInviteServer).toBe(1);
    await vi.advanceTimersByTimeAsync(64 * 100);
    expect(timeout).toHaveBeenCalledOnce();
    expect(layer.counts().total).toBe(0);
  });

  it('drops an ACK that arrives before the INVITE was answered', async () => {
    const h = nextServerTxn();
    layer.receive(request('INVITE'), udpPeer);
    const acks = vi.fn();
    layer.on('ack', acks);
    layer.receive(request('ACK'), udpPeer);
    expect(acks).not.toHaveBeenCalled();
    expect(h.txn?.state).toBe('proceeding');
  });
});

describe('sendCancel', () => {
  const dest = { transport: 'udp' as const, address: '192.0.2.1', port: 5060 };

  it('waits for a provisional before sending CANCEL, and matches its response', async () => {
    const invite = request('INVITE', 'z9hG4bKcancel1');
    const txn = layer.sendRequest(invite, dest);
    if (!(txn instanceof InviteClientTransaction)) throw new Error('expected an INVITE transaction');
    const cancelling = layer.sendCancel(txn);
    await vi.advanceTimersByTimeAsync(50);
    expect(transport.summary()).toEqual(['INVITE']);
    layer.receive(response(invite, 180), udpPeer);
    const cancelTxn = await cancelling;
    expect(cancelTxn).toBeDefined();
    await vi.advanceTimersByTimeAsync(0);
    const sent = transport.sent.at(-1)?.message;
    expect(sent?.kind === 'request' && sent.method).toBe('CANCEL');
    expect(sent?.headers.get('Via')).toBe(invite.headers.get('Via'));
    const seen: number[] = [];
    cancelTxn?.on('response', (r) => seen.push(r.status));
    const cancelReq = sent as SipRequest;
    layer.receive(response(cancelReq, 200), udpPeer);
    expect(seen).toEqual([200]);
    const inviteSeen: number[] = [];
    txn.on('response', (r) => inviteSeen.push(r.status));
    layer.receive(response(invite, 487), udpPeer);
    expect(inviteSeen).toEqual([487]);
  });

  it('gives up when the INVITE was already answered', async () => {
    const invite = request('INVITE', 'z9hG4bKcancel2');
    const txn = layer.sendRequest(invite, dest) as InviteClientTransaction;
    const cancelling = layer.sendCancel(txn);
    layer.receive(response(invite, 200), udpPeer);
    expect(await cancelling).toBeUndefined();
  });
});

describe('responseDestination', () => {
  it('answers streams on the connection, with the sent-by port as the fallback', async () => {
    const { responseDestination } = await import('../../../sip/engine/transaction/responseDestination.js');
    const req = request('OPTIONS');
    req.headers.replaceFirst('Via', 'SIP/2.0/TCP 192.0.2.7:5070;branch=z9hG4bKr1');
    const ephemeral = { ...tcpPeer, port: 40123 };
    expect(responseDestination(req, ephemeral)).toEqual({
      transport: 'tcp',
      address: '192.0.2.7',
      port: 5070,
      connectionId: 'conn-1',
    });
  });

  it('answers UDP at received + sent-by port without rport, at the source port with it', async () => {
    const { responseDestination } = await import('../../../sip/engine/transaction/responseDestination.js');
    const req = request('OPTIONS');
    req.headers.replaceFirst('Via', 'SIP/2.0/UDP host.example.com;branch=z9hG4bKr2;received=198.51.100.1');
    expect(responseDestination(req, { ...udpPeer, port: 7777 })).toEqual({
      transport: 'udp',
      address: '198.51.100.1',
      port: 5060,
    });
    req.headers.replaceFirst(
      'Via',
      'SIP/2.0/UDP host.example.com;branch=z9hG4bKr2;received=198.51.100.1;rport=7777',
    );
    expect(responseDestination(req, { ...udpPeer, port: 7777 }).port).toBe(7777);
  });
});
