import type { SessionTimer } from './dialogSessionTimer.js';
import { decideOutbound, refreshMethodFor, type SessionTimerSettings } from './sessionTimerRules.js';

/** The 2xx to our INVITE, as srf's response reads its headers. */
export interface TimerAnswer {
  get(header: string): string | undefined;
}

/**
 * The session timer of an answered INVITE of ours that offered timers (RFC 4028 7.2): the 2xx's
 * Session-Expires and refresher (`uac` is us), or none when the 2xx has no Session-Expires. Where we
 * refresh, UPDATE when `offered.refreshMethod` allows it and the 2xx's Allow lists UPDATE.
 */
export function outboundSessionTimer(
  answer: TimerAnswer | undefined,
  offered: SessionTimerSettings,
): SessionTimer | undefined {
  const granted = decideOutbound(answer?.get('Session-Expires') ?? answer?.get('x'));
  if (!answer || !granted) return undefined;
  return {
    seconds: granted.seconds,
    refresher: granted.refresher,
    role: 'uac',
    // The UAS that granted Session-Expires does timers: our answers to its refreshes require them.
    headers: { Require: 'timer' },
    refreshMethod: refreshMethodFor(offered.refreshMethod, answer.get('Allow')),
    // Never a Min-SE above the interval granted (a UAS may grant less than we asked: a test's).
    minSeSeconds: Math.min(offered.minSeSeconds, granted.seconds),
  };
}
