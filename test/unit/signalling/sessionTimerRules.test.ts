import { describe, expect, it } from 'vitest';
import {
  decideInbound,
  decideOutbound,
  expiryDelayMs,
  glareRetryDelayMs,
  offerHeaders,
  parseMinSe,
  parseSessionExpires,
  refreshDelayMs,
  refreshHeaders,
  refreshMethodFor,
  retryAfter422,
  validMinSe,
  withTimerOffer,
} from '../../../src/signalling/sessionTimers/sessionTimerRules.js';

const OURS = { expiresSeconds: 1800, minSeSeconds: 90 };

describe('RFC 4028 session timer rules', () => {
  it('parses Session-Expires with and without a refresher, and Min-SE', () => {
    expect(parseSessionExpires('1800')).toEqual({ seconds: 1800 });
    expect(parseSessionExpires(' 90 ; refresher = UAC')).toEqual({ seconds: 90, refresher: 'uac' });
    expect(parseSessionExpires('600;refresher=uas;x=1')).toEqual({ seconds: 600, refresher: 'uas' });
    expect(parseSessionExpires('600;refresher=proxy')).toEqual({ seconds: 600 });
    expect(parseSessionExpires('abc')).toBeUndefined();
    expect(parseSessionExpires('0')).toBeUndefined();
    expect(parseSessionExpires(undefined)).toBeUndefined();
    expect(parseMinSe('90')).toBe(90);
    expect(parseMinSe('120;foo')).toBe(120);
    expect(parseMinSe('-1')).toBeUndefined();
  });

  it('refuses an interval below our minimum with 422 and our Min-SE', () => {
    expect(decideInbound({ sessionExpires: '60', supportsTimer: true }, OURS)).toEqual({
      kind: 'reject',
      status: 422,
      headers: { 'Min-SE': '90' },
    });
  });

  it('keeps the caller as refresher when it asks to be, and says Require: timer', () => {
    expect(decideInbound({ sessionExpires: '90;refresher=uac', supportsTimer: true }, OURS)).toEqual({
      kind: 'timer',
      seconds: 90,
      refresher: 'uac',
      headers: { 'Session-Expires': '90;refresher=uac', Require: 'timer' },
    });
  });

  it('lowers a long interval to ours, never below the request Min-SE', () => {
    const lowered = decideInbound({ sessionExpires: '7200', supportsTimer: true }, OURS);
    expect(lowered).toMatchObject({ kind: 'timer', seconds: 1800, refresher: 'uac' });
    const floored = decideInbound(
      { sessionExpires: '7200', minSe: '3600', supportsTimer: true },
      { expiresSeconds: 1800, minSeSeconds: 90 },
    );
    expect(floored).toMatchObject({ seconds: 3600 });
  });

  it('refreshes itself for a caller without timer support, and adds no timer when nothing asks for one', () => {
    expect(decideInbound({ sessionExpires: '1800', supportsTimer: false }, OURS)).toEqual({
      kind: 'timer',
      seconds: 1800,
      refresher: 'uas',
      headers: { 'Session-Expires': '1800;refresher=uas' },
    });
    expect(decideInbound({ supportsTimer: false }, OURS)).toEqual({ kind: 'none' });
    expect(decideInbound({ supportsTimer: true }, OURS)).toMatchObject({ seconds: 1800, refresher: 'uac' });
  });

  it('offers timers on our INVITE and reads the 2xx and a 422', () => {
    expect(offerHeaders(OURS)).toEqual({ 'Session-Expires': '1800', 'Min-SE': '90', Supported: 'timer' });
    expect(withTimerOffer({ Supported: '100rel', To: '<sip:x@y>' }, OURS)).toEqual({
      Supported: '100rel, timer',
      To: '<sip:x@y>',
      'Session-Expires': '1800',
      'Min-SE': '90',
    });
    expect(decideOutbound('900;refresher=uas')).toEqual({ seconds: 900, refresher: 'uas' });
    // The UAS must name the refresher; without it we refresh (one refresh too many, never too few).
    expect(decideOutbound('900')).toEqual({ seconds: 900, refresher: 'uac' });
    // A 2xx without Session-Expires: the far end does not do timers, and the session has none.
    expect(decideOutbound(undefined)).toBeUndefined();
    expect(decideOutbound('soon')).toBeUndefined();
    expect(retryAfter422('2000', 1800)).toBe(2000);
    expect(retryAfter422('1000', 1800)).toBeUndefined();
    expect(retryAfter422(undefined, 1800)).toBeUndefined();
  });

  it('refreshes by UPDATE only where the setting and the far end’s Allow both say so', () => {
    expect(refreshMethodFor('update', 'INVITE, ACK, BYE, CANCEL, UPDATE, OPTIONS')).toBe('UPDATE');
    expect(refreshMethodFor(undefined, 'invite,update')).toBe('UPDATE');
    expect(refreshMethodFor('update', 'INVITE, ACK, BYE')).toBe('INVITE');
    expect(refreshMethodFor('update', undefined)).toBe('INVITE');
    expect(refreshMethodFor('invite', 'INVITE, UPDATE')).toBe('INVITE');
    expect(refreshHeaders(1800, 90)).toEqual({
      'Session-Expires': '1800;refresher=uac',
      'Min-SE': '90',
      Supported: 'timer',
    });
    expect(refreshHeaders(1800, undefined)).toEqual({
      'Session-Expires': '1800;refresher=uac',
      Supported: 'timer',
    });
  });

  it('waits 2.1-4 s after a 491 when the Call-ID is ours, 0-2 s when it is the far end’s (RFC 3261 14.1)', () => {
    expect(glareRetryDelayMs(true, () => 0)).toBe(2_100);
    expect(glareRetryDelayMs(true, () => 0.9999)).toBe(3_990);
    expect(glareRetryDelayMs(false, () => 0)).toBe(0);
    expect(glareRetryDelayMs(false, () => 0.9999)).toBe(1_990);
  });

  it('refreshes at half the interval and gives up a third (at most 32 s) before it ends', () => {
    expect(refreshDelayMs(90)).toBe(45_000);
    expect(refreshDelayMs(1800)).toBe(900_000);
    expect(expiryDelayMs(90)).toBe(60_000);
    expect(expiryDelayMs(1800)).toBe(1_768_000);
    expect(expiryDelayMs(3)).toBe(2_000);
  });

  it('accepts a configured Min-SE of 90 s or more only', () => {
    expect(validMinSe(90)).toBe(true);
    expect(validMinSe(89)).toBe(false);
    expect(validMinSe(90.5)).toBe(false);
  });
});
