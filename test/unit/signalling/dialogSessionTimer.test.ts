import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DialogSessionTimer } from '../../../src/signalling/sessionTimers/dialogSessionTimer.js';
import { type FarEndBye, SipDialogLeg } from '../../../src/signalling/sipDialogLeg.js';
import type { InboundRequest, InboundResponse, SipDialog } from '../../../src/signalling/srfTypes.js';

/**
 * A dialog's session timer (RFC 4028 10) on fake timers: expiry with the far end as refresher
 * (re-armed by its refreshes), our refresh at half the interval as refresher (re-INVITE, or UPDATE
 * where the far end allows it; 408/481 or no answer end the session, 422 raises the interval, 491
 * waits and sends it again), and every timer gone once the leg ends. Real SIP:
 * test/integration/sessionTimers.test.ts, test/integration/outboundSessionTimers.test.ts.
 */
const logger = pino({ level: 'silent' });

/** A session as the answer set it up, with the headers of our 2xx (Require: timer: the far end supports timers). */
const session = (seconds: number, refresher: 'uac' | 'uas') => ({
  seconds,
  refresher,
  headers: { 'Session-Expires': `${seconds};refresher=${refresher}`, Require: 'timer' },
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

type Answer = { status: number; get?(header: string): string | undefined };

class ScriptedDialog extends EventEmitter implements SipDialog {
  readonly id = 'dialog-1';
  connected = true;
  byes = 0;
  readonly local = { sdp: 'our sdp' };
  readonly refreshes: {
    method: string;
    sdp: string | undefined;
    headers: Record<string, string> | undefined;
  }[] = [];
  /** Answers each refresh in turn; the last one answers the rest. */
  answers: (() => Promise<Answer>)[] = [() => Promise.resolve({ status: 200 })];
  destroy(): Promise<void> {
    this.byes++;
    this.connected = false;
    return Promise.resolve();
  }
  request(options: { method: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
    this.refreshes.push({ method: options.method, sdp: options.body, headers: options.headers });
    const answer = this.answers.length > 1 ? this.answers.shift() : this.answers[0];
    return answer ? answer() : Promise.resolve({ status: 200 });
  }
}

const answering =
  (status: number, headers: Record<string, string> = {}) =>
  () =>
    Promise.resolve({ status, get: (h: string) => headers[h] });

function response(): { res: InboundResponse; sent: { status: number; headers?: Record<string, string> }[] } {
  const sent: { status: number; headers?: Record<string, string> }[] = [];
  const res: InboundResponse = {
    finalResponseSent: false,
    send: (status, _reason, options) => {
      sent.push({ status, ...(options?.headers ? { headers: options.headers } : {}) });
    },
  };
  return { res, sent };
}

const request = (body: string) => ({ body, get: () => undefined }) as unknown as InboundRequest;

function endsOf(leg: SipDialogLeg): (FarEndBye | undefined)[] {
  const ends: (FarEndBye | undefined)[] = [];
  leg.onEnded((bye) => ends.push(bye));
  return ends;
}

describe('DialogSessionTimer', () => {
  it('expires at the interval less a third (at most 32 s) when the far end refreshes, re-armed by refreshes', () => {
    const expire = vi.fn();
    const timer = new DialogSessionTimer(session(90, 'uac'), { refresh: vi.fn(), expire }, logger);
    vi.advanceTimersByTime(59_000);
    timer.refreshed();
    vi.advanceTimersByTime(59_000);
    expect(expire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(expire).toHaveBeenCalledOnce();
  });

  it('fires nothing once stopped', () => {
    const expire = vi.fn();
    const refresh = vi.fn();
    new DialogSessionTimer(session(90, 'uac'), { refresh, expire }, logger).stop();
    new DialogSessionTimer(session(90, 'uas'), { refresh, expire }, logger).stop();
    vi.advanceTimersByTime(600_000);
    expect(expire).not.toHaveBeenCalled();
    expect(refresh).not.toHaveBeenCalled();
  });
});

describe('SipDialogLeg with a session timer', () => {
  it('sends BYE and reports the session expired when the far end does not refresh', () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger, session(6, 'uac'));
    const ends = endsOf(leg);
    vi.advanceTimersByTime(3_999);
    expect(dialog.byes).toBe(0);
    vi.advanceTimersByTime(1);
    expect(dialog.byes).toBe(1);
    expect(ends).toHaveLength(1);
    expect(ends[0]?.sessionExpired).toBe(true);
    expect(leg.connected).toBe(false);
  });

  it('re-arms on a re-INVITE or UPDATE from the far end, answered with the session headers', async () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger, session(6, 'uac'));
    leg.onOffer(async () => 'answer');
    const ends = endsOf(leg);
    vi.advanceTimersByTime(3_000);
    const reinvite = response();
    dialog.emit('modify', request('offer'), reinvite.res);
    await vi.advanceTimersByTimeAsync(3_000);
    const update = response();
    dialog.emit('update', request(''), update.res);
    vi.advanceTimersByTime(3_000);
    expect(ends).toEqual([]);
    const headers = { 'Session-Expires': '6;refresher=uac', Require: 'timer' };
    expect(reinvite.sent).toEqual([{ status: 200, headers }]);
    expect(update.sent).toEqual([{ status: 200, headers }]);
    vi.advanceTimersByTime(1_000);
    expect(ends[0]?.sessionExpired).toBe(true);
  });

  it('refreshes with our last SDP at half the interval when we are the refresher', async () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger, session(90, 'uas'));
    const ends = endsOf(leg);
    await vi.advanceTimersByTimeAsync(45_000);
    await vi.advanceTimersByTimeAsync(45_000);
    // We send the refresh, so we are its UAC: refresher=uac keeps us the refresher (RFC 4028 7.4).
    const refresh = {
      method: 'INVITE',
      sdp: 'our sdp',
      headers: {
        'Session-Expires': '90;refresher=uac',
        Supported: 'timer',
        'Content-Type': 'application/sdp',
      },
    };
    expect(dialog.refreshes).toEqual([refresh, refresh]);
    expect(ends).toEqual([]);
  });

  it('refreshes with the SDP of our last answer once the far end has offered again (hold)', async () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger, session(90, 'uas'));
    leg.onOffer(async () => 'our sdp, recvonly');
    dialog.emit('modify', request('their sdp, sendonly'), response().res);
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dialog.refreshes.map((r) => r.sdp)).toEqual(['our sdp, recvonly']);
  });

  it.each([408, 481])('ends the session when our refresh gets %i', async (status) => {
    const dialog = new ScriptedDialog();
    dialog.answers = [answering(status)];
    const leg = new SipDialogLeg(dialog, logger, session(90, 'uas'));
    const ends = endsOf(leg);
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dialog.byes).toBe(1);
    expect(ends[0]?.sessionExpired).toBe(true);
  });

  it('ends the session when our refresh gets no answer at all', async () => {
    const dialog = new ScriptedDialog();
    dialog.answers = [() => Promise.reject(new Error('transaction timed out'))];
    const leg = new SipDialogLeg(dialog, logger, session(90, 'uas'));
    const ends = endsOf(leg);
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dialog.byes).toBe(1);
    expect(ends[0]?.sessionExpired).toBe(true);
  });

  it('keeps the session when our refresh is refused otherwise (a 500)', async () => {
    const dialog = new ScriptedDialog();
    dialog.answers = [answering(500)];
    const leg = new SipDialogLeg(dialog, logger, session(90, 'uas'));
    const ends = endsOf(leg);
    await vi.advanceTimersByTimeAsync(90_000);
    expect(dialog.refreshes).toHaveLength(2);
    expect(ends).toEqual([]);
  });

  it('refreshes by UPDATE without SDP where the far end allows it, and answers its re-INVITEs as refresher uas', async () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger, {
      ...session(90, 'uac'),
      role: 'uac',
      refreshMethod: 'UPDATE',
      minSeSeconds: 90,
    });
    leg.onOffer(async () => 'answer');
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dialog.refreshes).toEqual([
      {
        method: 'UPDATE',
        sdp: undefined,
        headers: { 'Session-Expires': '90;refresher=uac', 'Min-SE': '90', Supported: 'timer' },
      },
    ]);
    // A re-INVITE from the far end (the callee): it is that transaction's UAC, we the refresher (uas).
    const reinvite = response();
    dialog.emit('modify', request('offer'), reinvite.res);
    await vi.advanceTimersByTimeAsync(0);
    expect(reinvite.sent).toEqual([
      { status: 200, headers: { 'Session-Expires': '90;refresher=uas', Require: 'timer' } },
    ]);
  });

  it('expires an outbound session whose callee (refresher uas) stops refreshing', () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger, { ...session(6, 'uas'), role: 'uac' });
    const ends = endsOf(leg);
    vi.advanceTimersByTime(4_000);
    expect(dialog.refreshes).toEqual([]);
    expect(dialog.byes).toBe(1);
    expect(ends[0]?.sessionExpired).toBe(true);
  });

  it('sends the refresh again at once with the interval a 422 asks for, and runs on that interval', async () => {
    const dialog = new ScriptedDialog();
    dialog.answers = [answering(422, { 'Min-SE': '120' }), answering(200)];
    const leg = new SipDialogLeg(dialog, logger, session(90, 'uas'));
    leg.onOffer(async () => 'answer');
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dialog.refreshes.map((r) => r.headers?.['Session-Expires'])).toEqual([
      '90;refresher=uac',
      '120;refresher=uac',
    ]);
    expect(dialog.refreshes[1]?.headers?.['Min-SE']).toBe('120');
    // The next refresh at half the new interval.
    await vi.advanceTimersByTimeAsync(59_999);
    expect(dialog.refreshes).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(dialog.refreshes).toHaveLength(3);
    // Our answers to the far end's requests say the new interval too.
    const update = response();
    dialog.emit('update', request(''), update.res);
    expect(update.sent[0]?.headers?.['Session-Expires']).toBe('120;refresher=uas');
  });

  it('waits after a 491 (glare, RFC 3261 14.1) and sends the refresh again', async () => {
    const dialog = new ScriptedDialog();
    dialog.answers = [answering(491), answering(200)];
    const leg = new SipDialogLeg(dialog, logger, session(90, 'uas'));
    const ends = endsOf(leg);
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dialog.refreshes).toHaveLength(1);
    // The far end made the Call-ID (an inbound call): within 2 s.
    await vi.advanceTimersByTimeAsync(2_000);
    expect(dialog.refreshes).toHaveLength(2);
    expect(ends).toEqual([]);
  });

  it('falls back to re-INVITE when an UPDATE refresh gets 405 or 501', async () => {
    const dialog = new ScriptedDialog();
    dialog.answers = [answering(501), answering(200)];
    new SipDialogLeg(dialog, logger, { ...session(90, 'uas'), refreshMethod: 'UPDATE' });
    await vi.advanceTimersByTimeAsync(45_000);
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dialog.refreshes.map((r) => r.method)).toEqual(['UPDATE', 'INVITE', 'INVITE']);
    expect(dialog.refreshes[1]?.sdp).toBe('our sdp');
  });

  it('clears its timer on the far end’s BYE and on our hangup', async () => {
    const byFarEnd = new ScriptedDialog();
    const legA = new SipDialogLeg(byFarEnd, logger, session(6, 'uac'));
    const endsA = endsOf(legA);
    byFarEnd.emit('destroy');
    const byUs = new ScriptedDialog();
    const legB = new SipDialogLeg(byUs, logger, session(90, 'uas'));
    await legB.hangup();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(endsA).toHaveLength(1);
    expect(endsA[0]?.sessionExpired).toBeUndefined();
    expect(byFarEnd.byes).toBe(0);
    expect(byUs.byes).toBe(1);
    expect(byUs.refreshes).toEqual([]);
  });
});
