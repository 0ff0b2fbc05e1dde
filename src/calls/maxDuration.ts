/**
 * Timers fire a few milliseconds late and a call's duration is whole seconds rounded up, so a call
 * ended exactly at its limit would often be billed a second more. The limit's hangup goes this much
 * early instead: a call never lasts past its maxDuration.
 */
const EARLY_MS = 50;

/** Calls `onLimit` just before `limitMs` has passed; clear it with clearTimeout. */
export function maxDurationTimer(limitMs: number, onLimit: () => void): NodeJS.Timeout {
  return setTimeout(onLimit, Math.max(0, limitMs - EARLY_MS));
}
