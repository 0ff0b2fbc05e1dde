import { describe, expect, it } from 'vitest';
import {
  expectsRtp,
  MediaTimeout,
  mediaTimeoutMessage,
  mediaTimeoutsOf,
} from '../../../src/media/session/mediaTimeout.js';

const limits = mediaTimeoutsOf({ timeoutInitialSeconds: 2, timeoutSeconds: 1 });

describe('MediaTimeout (shared by RtpMediaSession and the loopback stand-in)', () => {
  it('ends a session silent from the start after the initial limit, and says so to a tenth of a second', () => {
    const timeout = new MediaTimeout(limits, 0);
    expect(timeout.check(1999.9, 'sendrecv')).toBeNull();
    expect(timeout.check(2040.4, 'sendrecv')).toEqual({
      phase: 'initial',
      silentMs: 2040,
      message: 'no RTP for 2.0 s',
    });
  });

  it('after the first packet the established limit counts from the last one', () => {
    const timeout = new MediaTimeout(limits, 0);
    expect(timeout.heard(500)).toBe(true);
    expect(timeout.heard(600)).toBe(false);
    expect(timeout.check(1599, 'sendrecv')).toBeNull();
    expect(timeout.check(1600, 'recvonly')).toMatchObject({ phase: 'established', silentMs: 1000 });
  });

  it('stands still while no RTP is expected, and a restart counts from then', () => {
    const timeout = new MediaTimeout(limits, 0);
    // Held (sendonly), inactive, or our offer still unanswered: silence is no failure.
    expect(timeout.check(5000, 'sendonly')).toBeNull();
    expect(timeout.check(6000, 'inactive')).toBeNull();
    expect(timeout.check(7000, null)).toBeNull();
    expect(timeout.check(8999, 'sendrecv')).toBeNull();
    timeout.restart(8500);
    expect(timeout.check(10_499, 'sendrecv')).toBeNull();
    expect(timeout.check(10_500, 'sendrecv')).toMatchObject({ phase: 'initial' });
  });

  it('formats the message from unrounded silence, and knows which directions expect RTP', () => {
    expect(mediaTimeoutMessage(1000)).toBe('no RTP for 1.0 s');
    expect(mediaTimeoutMessage(15_049.9)).toBe('no RTP for 15.0 s');
    const directions = ['sendrecv', 'recvonly', 'sendonly', 'inactive', null] as const;
    expect(directions.map((direction) => expectsRtp(direction))).toEqual([true, true, false, false, false]);
    expect(limits).toEqual({ initialMs: 2000, establishedMs: 1000 });
  });
});
