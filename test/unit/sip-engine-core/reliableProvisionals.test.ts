import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CoreContext } from '../../../sip/engine/core/coreContext.js';
import type { PendingServerRequest } from '../../../sip/engine/core/coreTypes.js';
import {
  listsOption,
  parseRAck,
  ReliableProvisionals,
  reliableRetransmitDelays,
} from '../../../sip/engine/core/reliableProvisionals.js';
import { createResponse } from '../../../sip/engine/message/createResponse.js';
import type { SipRequest } from '../../../sip/engine/message/messageTypes.js';
import { SipHeaders } from '../../../sip/engine/message/sipHeaders.js';
import { reliableProvisionalHeaders } from '../../../src/signalling/inbound/reliableProvisional.js';

const withHeaders = (lines: Array<[string, string]>): SipRequest => ({
  kind: 'request',
  method: 'INVITE',
  uri: 'sip:a@b',
  headers: new SipHeaders(lines.map(([name, value]) => ({ name, value }))),
  body: Buffer.alloc(0),
});

describe('RFC 3262 pieces', () => {
  it('parses RAck: response number, CSeq number, method', () => {
    expect(parseRAck('776656 1 INVITE')).toEqual({ rseq: 776656, cseq: 1, method: 'INVITE' });
    expect(parseRAck('  5   22 invite ')).toEqual({ rseq: 5, cseq: 22, method: 'INVITE' });
    expect(parseRAck('0 1 INVITE')).toBeUndefined();
    expect(parseRAck('5 INVITE')).toBeUndefined();
    expect(parseRAck('x 1 INVITE')).toBeUndefined();
    expect(parseRAck('4294967296 1 INVITE')).toBeUndefined();
  });

  it('retransmits at T1, 2·T1, 4·T1… and stops before 64·T1', () => {
    expect(reliableRetransmitDelays(500)).toEqual([500, 1000, 2000, 4000, 8000, 16000]);
    const total = reliableRetransmitDelays(500).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(64 * 500);
  });

  it('finds an option tag in Require/Supported lists, any case, over several lines', () => {
    const invite = withHeaders([
      ['Supported', 'timer, 100REL'],
      ['Require', 'precondition'],
    ]);
    expect(listsOption(invite, 'Supported', '100rel')).toBe(true);
    expect(listsOption(invite, 'Require', '100rel')).toBe(false);
    expect(listsOption(invite, 'Supported', 'rel')).toBe(false);
  });

  it('asks for reliable provisionals only from a caller that requires them', () => {
    const get = (values: Record<string, string>) => ({ get: (name: string) => values[name] });
    expect(reliableProvisionalHeaders(get({ Require: '100rel' }))).toEqual({ Require: '100rel' });
    // Supported alone: plain provisionals (a peer that advertises it may still never PRACK).
    expect(reliableProvisionalHeaders(get({ Supported: 'timer, 100rel' }))).toBeUndefined();
    expect(reliableProvisionalHeaders(get({ Supported: 'timer' }))).toBeUndefined();
  });
});

describe('ReliableProvisionals without a PRACK', () => {
  const T1 = 500;
  afterEach(() => {
    vi.useRealTimers();
  });

  function rig() {
    const sent: number[] = [];
    const transaction = Object.assign(new EventEmitter(), {
      state: 'proceeding',
      respond: vi.fn(async (response: { status: number }) => {
        sent.push(response.status);
        if (response.status >= 200) transaction.state = 'completed';
        return { ok: true };
      }),
    });
    const ctx = {
      deps: {
        transactions: { timers: { T1, T2: 4000, T4: 5000 } },
        registry: { pickCdr: () => undefined },
        now: () => 0,
        newId: () => 'id',
      },
    } as unknown as CoreContext;
    const invite = withHeaders([
      ['Call-ID', 'c1'],
      ['From', '<sip:a@b>;tag=f1'],
      ['To', '<sip:b@c>'],
      ['CSeq', '1 INVITE'],
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx'],
      ['Require', '100rel'],
    ]);
    const pending = {
      txnId: 't1',
      request: invite,
      transaction,
      toTag: 'tt',
      dialogId: '',
      finalSent: false,
      app: { state: 'open' },
    } as unknown as PendingServerRequest;
    return { sent, pending, reliable: new ReliableProvisionals(ctx) };
  }

  it('retransmits at T1 doubling, then refuses the INVITE 504 at 64·T1 and fails the held 2xx', async () => {
    vi.useFakeTimers();
    const { sent, pending, reliable } = rig();
    const response = createResponse(pending.request, 183, { toTag: 'tt' });
    expect(reliable.wants(pending, response)).toBe(true);
    const rseq = reliable.stamp(pending, response);
    expect(response.headers.get('RSeq')).toBe(String(rseq));
    expect(response.headers.get('Require')).toBe('100rel');
    await pending.transaction.respond(response);
    reliable.sent(pending, response, rseq);
    expect(reliable.busy(pending)).toBe(true);
    const failed: string[] = [];
    reliable.enqueue(
      pending,
      async () => {
        throw new Error('the held 2xx must not go out');
      },
      (reason) => failed.push(reason),
    );
    await vi.advanceTimersByTimeAsync(T1);
    expect(sent).toEqual([183, 183]);
    await vi.advanceTimersByTimeAsync(2 * T1);
    expect(sent).toEqual([183, 183, 183]);
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(sent.filter((status) => status === 183)).toHaveLength(7);
    expect(sent.at(-1)).toBe(504);
    expect(failed).toEqual(['reliable provisional response not acknowledged (no PRACK)']);
    expect(pending.finalSent).toBe(true);
    reliable.clear();
  });
});
