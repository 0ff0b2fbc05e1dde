import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DialogSessionTimer } from '../../../src/signalling/sessionTimers/dialogSessionTimer.js';
import { type FarEndBye, SipDialogLeg } from '../../../src/signalling/sipDialogLeg.js';
import type { InboundRequest, InboundResponse, SipDialog } from '../../../src/signalling/srfTypes.js';

/**
 * A dialog's session timer (RFC 4028 10) on fake timers: expiry with the far end as refresher
 * (re-armed by its refreshes), our refresh re-INVITE at half the interval as refresher (408/481
 * end the session), and every timer gone once the leg ends. Real SIP:
 * test/integration/sessionTimers.test.ts.
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

class ScriptedDialog extends EventEmitter implements SipDialog {
  readonly id = 'dialog-1';
  connected = true;
  byes = 0;
  readonly local = { sdp: 'our sdp' };
  readonly refreshes: { sdp: string; headers: Record<string, string> | undefined }[] = [];
  refreshAnswer: () => Promise<unknown> = () => Promise.resolve('their sdp');
  destroy(): Promise<void> {
    this.byes++;
    this.connected = false;
    return Promise.resolve();
  }
  modify(sdp: string, options?: { headers?: Record<string, string> }): Promise<unknown> {
    this.refreshes.push({ sdp, headers: options?.headers });
    return this.refreshAnswer();
  }
}

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
    expect(dialog.refreshes).toEqual([
      { sdp: 'our sdp', headers: { 'Session-Expires': '90;refresher=uas', Supported: 'timer' } },
      { sdp: 'our sdp', headers: { 'Session-Expires': '90;refresher=uas', Supported: 'timer' } },
    ]);
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
    dialog.refreshAnswer = () => Promise.reject(Object.assign(new Error('refused'), { status }));
    const leg = new SipDialogLeg(dialog, logger, session(90, 'uas'));
    const ends = endsOf(leg);
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dialog.byes).toBe(1);
    expect(ends[0]?.sessionExpired).toBe(true);
  });

  it('keeps the session when our refresh is refused otherwise (a 491, a 500)', async () => {
    const dialog = new ScriptedDialog();
    dialog.refreshAnswer = () => Promise.reject(Object.assign(new Error('glare'), { status: 491 }));
    const leg = new SipDialogLeg(dialog, logger, session(90, 'uas'));
    const ends = endsOf(leg);
    await vi.advanceTimersByTimeAsync(90_000);
    expect(dialog.refreshes).toHaveLength(2);
    expect(ends).toEqual([]);
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
