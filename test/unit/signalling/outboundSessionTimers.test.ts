import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { InviteTarget } from '../../../src/signalling/outbound/outboundTrunks.js';
import {
  InviteFailed,
  type InviteOptions,
  type InviteProgress,
  type OutboundDialog,
  type SendInvite,
  UacInvite,
} from '../../../src/signalling/outbound/uacInvite.js';
import { outboundSessionTimer } from '../../../src/signalling/sessionTimers/outboundSessionTimer.js';

/**
 * Session timers (RFC 4028) on our own INVITEs, with srf.createUAC as a script: the offer's
 * headers, the one retry after a 422 with Min-SE (same call, CSeq up, the interval raised), and
 * the timer a 2xx grants. Over real sockets: test/integration/outboundSessionTimers.test.ts.
 */
const logger = pino({ level: 'silent' });
const tick = () => new Promise((resolve) => setImmediate(resolve));
const URI = 'sip:+442071838750@127.0.0.1:5080;transport=udp';
const TIMERS = { expiresSeconds: 1800, minSeSeconds: 90, refreshMethod: 'update' as const };

/** srf.createUAC as a script: each INVITE it is asked to send, settled by the test. */
class ScriptedTrunk {
  readonly sends: {
    options: InviteOptions;
    progress: InviteProgress;
    settle: { resolve(dialog: OutboundDialog): void; reject(error: unknown): void };
  }[] = [];

  readonly send: SendInvite = (_uri, options, progress) =>
    new Promise((resolve, reject) => {
      this.sends.push({ options, progress, settle: { resolve, reject } });
    });

  sent(n: number, cseq: number): void {
    const headers: Record<string, string> = {
      'Call-ID': 'call-1@gw',
      From: '<sip:+15550100@carrier.test>;tag=ftag1',
      CSeq: `${cseq} INVITE`,
    };
    this.sends[n]?.progress.cbRequest(null, {
      stackTxnId: `txn-${n}`,
      uri: URI,
      get: (h) => headers[h],
      cancel: () => undefined,
    });
  }

  refuse(n: number, status: number, headers: Record<string, string> = {}): void {
    const res = { status, get: (h: string) => headers[h] };
    this.sends[n]?.settle.reject(Object.assign(new Error(`${status}`), { status, reason: 'Too Small', res }));
  }

  answer(n: number): void {
    this.sends[n]?.settle.resolve({
      id: 'dialog-1',
      sip: { callId: 'call-1@gw' },
    } as unknown as OutboundDialog);
  }
}

function dial(target: Partial<InviteTarget> = {}) {
  const trunk = new ScriptedTrunk();
  const invite = new UacInvite(
    trunk.send,
    {
      trunk: 'carrier',
      uri: URI,
      headers: {
        From: '<sip:+15550100@carrier.test>',
        To: '<sip:+442071838750@127.0.0.1>',
        Supported: '100rel',
      },
      sessionTimers: TIMERS,
      ...target,
    },
    'v=0 offer',
    { onSent: () => undefined, onProvisional: () => undefined },
    logger,
  );
  return { trunk, invite };
}

describe('UacInvite offering session timers', () => {
  it('offers Supported: timer, Session-Expires and Min-SE beside 100rel', () => {
    const { trunk } = dial();
    expect(trunk.sends[0]?.options.headers).toMatchObject({
      Supported: '100rel, timer',
      'Session-Expires': '1800',
      'Min-SE': '90',
    });
  });

  it('offers none without sessionTimers (a WhatsApp INVITE)', () => {
    const { trunk, invite } = dial({ sessionTimers: undefined });
    expect(trunk.sends[0]?.options.headers).not.toHaveProperty('Session-Expires');
    expect(trunk.sends[0]?.options.headers.Supported).toBe('100rel');
    expect(invite.timerOffer).toBeUndefined();
  });

  it('sends the INVITE again in the same call with the interval raised to a 422’s Min-SE', async () => {
    const { trunk, invite } = dial();
    trunk.sent(0, 1);
    trunk.refuse(0, 422, { 'Min-SE': '3600' });
    await tick();
    expect(trunk.sends).toHaveLength(2);
    expect(trunk.sends[1]?.options.headers).toMatchObject({
      'Call-ID': 'call-1@gw',
      From: '<sip:+15550100@carrier.test>;tag=ftag1',
      CSeq: '2 INVITE',
      'Session-Expires': '3600',
      'Min-SE': '3600',
      Supported: '100rel, timer',
    });
    expect(trunk.sends[1]?.options.localSdp).toBe('v=0 offer');
    expect(invite.timerOffer).toMatchObject({ expiresSeconds: 3600, minSeSeconds: 3600 });
    trunk.sent(1, 2);
    trunk.answer(1);
    await expect(invite.answered).resolves.toMatchObject({ id: 'dialog-1' });
  });

  it('takes a second 422, or one without a larger Min-SE, as the final answer', async () => {
    const twice = dial();
    twice.trunk.sent(0, 1);
    twice.trunk.refuse(0, 422, { 'Min-SE': '3600' });
    await tick();
    twice.trunk.sent(1, 2);
    twice.trunk.refuse(1, 422, { 'Min-SE': '7200' });
    await expect(twice.invite.answered).rejects.toMatchObject({ status: 422 });
    expect(twice.trunk.sends).toHaveLength(2);

    const smaller = dial();
    smaller.trunk.sent(0, 1);
    smaller.trunk.refuse(0, 422, { 'Min-SE': '900' });
    await expect(smaller.invite.answered).rejects.toBeInstanceOf(InviteFailed);
    expect(smaller.trunk.sends).toHaveLength(1);
  });
});

describe('outboundSessionTimer (the 2xx to our INVITE)', () => {
  const answer = (headers: Record<string, string>) => ({ get: (h: string) => headers[h] });

  it('runs the interval and refresher the 2xx names, refreshing by UPDATE where its Allow lists it', () => {
    expect(
      outboundSessionTimer(
        answer({ 'Session-Expires': '900;refresher=uac', Allow: 'INVITE, ACK, BYE, UPDATE' }),
        TIMERS,
      ),
    ).toEqual({
      seconds: 900,
      refresher: 'uac',
      role: 'uac',
      headers: { Require: 'timer' },
      refreshMethod: 'UPDATE',
      minSeSeconds: 90,
    });
    expect(outboundSessionTimer(answer({ x: '600;refresher=uas' }), TIMERS)).toMatchObject({
      seconds: 600,
      refresher: 'uas',
      refreshMethod: 'INVITE',
    });
    expect(
      outboundSessionTimer(answer({ 'Session-Expires': '900', Allow: 'UPDATE' }), {
        ...TIMERS,
        refreshMethod: 'invite',
      }),
    ).toMatchObject({ refresher: 'uac', refreshMethod: 'INVITE' });
  });

  it('runs none when the 2xx has no Session-Expires', () => {
    expect(outboundSessionTimer(answer({ Allow: 'UPDATE' }), TIMERS)).toBeUndefined();
    expect(outboundSessionTimer(undefined, TIMERS)).toBeUndefined();
  });
});
