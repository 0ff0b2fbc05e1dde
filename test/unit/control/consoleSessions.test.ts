import { describe, expect, test } from 'vitest';
import { anyOf, ConsoleSessions } from '../../../src/control/auth/consoleSessions.js';

const APP = { role: 'app', appId: 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X' } as const;

function clock(start = 0): { now: () => Date; advance(ms: number): void } {
  let at = start;
  return { now: () => new Date(at), advance: (ms) => (at += ms) };
}

describe('console links and sessions', () => {
  test('a link opens one session, which authenticates as the link maker chose until it expires', () => {
    const time = clock();
    const sessions = new ConsoleSessions({ now: time.now, linkTtlMs: 1000, sessionTtlMs: 5000 });
    const link = sessions.createLink(APP);
    const session = sessions.redeem(link.code);
    expect(session?.principal).toEqual(APP);
    expect(sessions.redeem(link.code)).toBeUndefined();
    const header = `Bearer ${session?.token}`;
    expect(sessions.authenticate(header)).toEqual(APP);
    time.advance(5000);
    expect(sessions.authenticate(header)).toBeUndefined();
  });

  test('an expired link opens nothing, and a wrong code does not use up a good one', () => {
    const time = clock();
    const sessions = new ConsoleSessions({ now: time.now, linkTtlMs: 1000 });
    const late = sessions.createLink(APP);
    const good = sessions.createLink(APP);
    expect(sessions.redeem('not-a-code')).toBeUndefined();
    expect(sessions.redeem(good.code)).toBeDefined();
    time.advance(1000);
    expect(sessions.redeem(late.code)).toBeUndefined();
  });

  test('a revoked session stops at once; API keys are neither taken nor revoked', () => {
    const sessions = new ConsoleSessions({ now: () => new Date(0) });
    const session = sessions.redeem(sessions.createLink({ role: 'admin' }).code);
    const header = `Bearer ${session?.token}`;
    expect(sessions.revoke('Bearer sk_admin_whatever')).toBe(false);
    expect(sessions.authenticate('Bearer sk_admin_whatever')).toBeUndefined();
    expect(sessions.revoke(header)).toBe(true);
    expect(sessions.authenticate(header)).toBeUndefined();
    expect(sessions.revoke(header)).toBe(false);
  });

  test('holds at most `capacity` links: the oldest go first', () => {
    const sessions = new ConsoleSessions({ now: () => new Date(0), capacity: 2 });
    const [a, b, c] = [1, 2, 3].map(() => sessions.createLink(APP));
    expect(sessions.redeem(a?.code ?? '')).toBeUndefined();
    expect(sessions.redeem(b?.code ?? '')).toBeDefined();
    expect(sessions.redeem(c?.code ?? '')).toBeDefined();
    expect(sessions.openSessions).toBe(2);
  });

  test('anyOf asks each authenticator in turn', () => {
    const sessions = new ConsoleSessions({ now: () => new Date(0) });
    const token = sessions.redeem(sessions.createLink(APP).code)?.token;
    const keys = {
      authenticate: (h?: string) => (h === 'Bearer k' ? ({ role: 'admin' } as const) : undefined),
    };
    const both = anyOf(keys, sessions);
    expect(both.authenticate('Bearer k')).toEqual({ role: 'admin' });
    expect(both.authenticate(`Bearer ${token}`)).toEqual(APP);
    expect(both.authenticate('Bearer nope')).toBeUndefined();
  });
});
