import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { dialableUser, transferTargetSchema } from '../../../src/calls/transfer/transferTarget.js';
import { headerUri, SipDialogTransfers, sipfragStatus } from '../../../src/signalling/sipTransfer.js';
import type { InboundRequest, InboundResponse } from '../../../src/signalling/srfTypes.js';

const logger = pino({ level: 'silent' });

interface Sent {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** An srf dialog that records the requests it sends and answers each with `status`. */
class FakeDialog extends EventEmitter {
  readonly local = { uri: 'sip:+15550199@gw.example' };
  readonly sent: Sent[] = [];
  constructor(private readonly status: (method: string) => number) {
    super();
  }
  async request(options: { method: string; headers?: Record<string, string>; body?: string }) {
    this.sent.push({ method: options.method, headers: options.headers ?? {}, body: options.body });
    return { status: this.status(options.method) };
  }
  /** A request from the far end; resolves with our answer. */
  receive(method: string, headers: Record<string, string>, body = ''): Promise<number> {
    return new Promise((resolve) => {
      const req = { method, body, get: (name: string) => headers[name] } as unknown as InboundRequest;
      const res = { finalResponseSent: false, send: (status: number) => resolve(status) } as InboundResponse;
      this.emit(method.toLowerCase(), req, res);
    });
  }
}

function notify(dialog: FakeDialog, frag: string, state = 'active') {
  return dialog.receive(
    'NOTIFY',
    { Event: 'refer', 'Subscription-State': state, 'Content-Type': 'message/sipfrag' },
    `${frag}\r\n`,
  );
}

describe('sipfrag and header URIs', () => {
  it('reads the status line of a sipfrag', () => {
    expect(sipfragStatus('SIP/2.0 200 OK\r\n')).toEqual({ status: 200, reason: 'OK' });
    expect(sipfragStatus('SIP/2.0 486 Busy Here\r\nVia: x\r\n')).toEqual({
      status: 486,
      reason: 'Busy Here',
    });
    expect(sipfragStatus('INVITE sip:x SIP/2.0')).toBeUndefined();
  });

  it('takes the URI out of Refer-To, without header parameters or embedded headers', () => {
    expect(headerUri('<sip:+15550123@pbx.example;user=phone?Replaces=abc>;foo=1')).toBe(
      'sip:+15550123@pbx.example;user=phone',
    );
    expect(headerUri('sip:bob@pbx.example;x=1')).toBe('sip:bob@pbx.example');
    expect(headerUri(undefined)).toBeUndefined();
  });

  it('dials only numbers from a Refer-To, and takes E.164 or sip: URIs as transfer targets', () => {
    expect(dialableUser('sip:+15550123@pbx.example;user=phone')).toBe('+15550123');
    expect(dialableUser('sip:%2B15550123@pbx.example')).toBe('+15550123');
    expect(dialableUser('sip:alice@pbx.example')).toBeUndefined();
    expect(transferTargetSchema.safeParse('+15550123').success).toBe(true);
    expect(transferTargetSchema.safeParse('sip:alice@pbx.example;transport=tcp').success).toBe(true);
    expect(transferTargetSchema.safeParse('alice').success).toBe(false);
    expect(transferTargetSchema.safeParse('sip:a b@x').success).toBe(false);
  });
});

describe('SipDialogTransfers', () => {
  it('sends REFER with Refer-To and Referred-By and completes on a 2xx sipfrag', async () => {
    const dialog = new FakeDialog(() => 202);
    const transfers = new SipDialogTransfers(dialog, logger);
    const outcome = transfers.refer({ referTo: 'sip:+15550123@carrier.example', timeoutMs: 5000 });
    expect(transfers.busy).toBe(true);
    expect(dialog.sent[0]).toMatchObject({
      method: 'REFER',
      headers: { 'Refer-To': '<sip:+15550123@carrier.example>', 'Referred-By': '<sip:+15550199@gw.example>' },
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(await notify(dialog, 'SIP/2.0 100 Trying')).toBe(200);
    expect(await notify(dialog, 'SIP/2.0 200 OK', 'terminated;reason=noresource')).toBe(200);
    expect(await outcome).toEqual({ result: 'completed', status: 200, reason: 'OK' });
    expect(transfers.busy).toBe(false);
    // A NOTIFY after the end belongs to no subscription.
    expect(await notify(dialog, 'SIP/2.0 200 OK')).toBe(481);
  });

  it('fails on a refused REFER, a failure sipfrag, and no final NOTIFY in time', async () => {
    const refused = new SipDialogTransfers(new FakeDialog(() => 405), logger);
    expect(await refused.refer({ referTo: 'sip:a@b', timeoutMs: 5000 })).toMatchObject({
      result: 'failed',
      stage: 'refer',
      status: 405,
    });

    const dialog = new FakeDialog(() => 202);
    const busy = new SipDialogTransfers(dialog, logger);
    const outcome = busy.refer({ referTo: 'sip:a@b', timeoutMs: 5000 });
    await notify(dialog, 'SIP/2.0 486 Busy Here', 'terminated');
    expect(await outcome).toMatchObject({ result: 'failed', stage: 'notify', status: 486 });

    const silent = new SipDialogTransfers(new FakeDialog(() => 202), logger);
    expect(await silent.refer({ referTo: 'sip:a@b', timeoutMs: 50 })).toMatchObject({
      result: 'failed',
      stage: 'timeout',
      status: null,
    });
  });

  it('holds a REFER that comes before the listener, and hands it over once there is one', async () => {
    const dialog = new FakeDialog(() => 200);
    const transfers = new SipDialogTransfers(dialog, logger);
    const answer = dialog.receive('REFER', { 'Refer-To': '<sip:+15550123@pbx>' });
    transfers.onRefer((refer) => refer.refuse(403, 'No'));
    expect(await answer).toBe(403);
    const secondDialog = new FakeDialog(() => 200);
    const second = new SipDialogTransfers(secondDialog, logger);
    let heard = '';
    const early = secondDialog.receive('REFER', { 'Refer-To': '<sip:bob@pbx>' });
    second.onRefer((refer) => {
      heard = refer.referTo;
      refer.accept();
    });
    expect(await early).toBe(202);
    expect(heard).toBe('sip:bob@pbx');
  });

  it('refuses a REFER from the far end 403 without a listener; with one, 202 then NOTIFYs in order', async () => {
    const dialog = new FakeDialog(() => 200);
    const transfers = new SipDialogTransfers(dialog, logger);
    expect(await dialog.receive('REFER', { 'Refer-To': '<sip:+15550123@pbx>' })).toBe(403);

    let referTo: string | undefined;
    transfers.onRefer((refer) => {
      referTo = refer.referTo;
      void refer.accept().notify(200, 'OK');
    });
    expect(await dialog.receive('REFER', { 'Refer-To': '<sip:+15550123@pbx>' })).toBe(202);
    expect(referTo).toBe('sip:+15550123@pbx');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(dialog.sent.map((request) => [request.body, request.headers['Subscription-State']])).toEqual([
      ['SIP/2.0 100 Trying\r\n', 'active;expires=60'],
      ['SIP/2.0 200 OK\r\n', 'terminated;reason=noresource'],
    ]);
    expect(dialog.sent[0]?.headers).toMatchObject({
      Event: 'refer',
      'Content-Type': 'message/sipfrag;version=2.0',
    });
  });
});
