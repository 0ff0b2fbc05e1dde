import type { CallStatus, EndReason } from './callTypes.js';
import { isFinal } from './callTypes.js';

/**
 * Which status may follow which. A call is answered at most once (in_progress or voicemail), ends
 * exactly once, and an answered call can only complete: whatever ended it (BYE, media error,
 * room closed) is its endReason, not a different final status.
 */
const NEXT: Record<CallStatus, readonly CallStatus[]> = {
  initiated: ['ringing', 'in_progress', 'voicemail', 'failed', 'busy', 'no_answer', 'canceled'],
  ringing: ['in_progress', 'voicemail', 'failed', 'busy', 'no_answer', 'canceled'],
  in_progress: ['completed'],
  voicemail: ['completed'],
  completed: [],
  failed: [],
  busy: [],
  no_answer: [],
  canceled: [],
};

export type TransitionCheck = { ok: true } | { ok: false; reason: string };

/** Whether `from` → `to` makes sense, and carries an end reason exactly when it ends the call. */
export function checkTransition(
  from: CallStatus,
  to: CallStatus,
  endReason: EndReason | undefined,
): TransitionCheck {
  if (isFinal(from)) return { ok: false, reason: `the call already ended as ${from}` };
  if (!NEXT[from].includes(to)) return { ok: false, reason: `${from} cannot become ${to}` };
  if (isFinal(to) && !endReason) return { ok: false, reason: `ending as ${to} needs an end reason` };
  if (!isFinal(to) && endReason) return { ok: false, reason: `${to} does not end the call` };
  return { ok: true };
}
