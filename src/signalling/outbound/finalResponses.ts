/** How an outbound INVITE that was not answered ended, judged by its final response. */
export type RefusalKind = 'busy' | 'no_answer' | 'declined' | 'trunk_error';

/**
 * 486 Busy Here and 600 Busy Everywhere: busy. 408 Request Timeout, 480 Temporarily Unavailable
 * and 487 Request Terminated (someone cancelled it, not us): no answer. 603 Decline: declined.
 * Every other 3xx-6xx: the trunk or the far end failed the call.
 */
export function refusalKind(status: number): RefusalKind {
  if (status === 486 || status === 600) return 'busy';
  if (status === 408 || status === 480 || status === 487) return 'no_answer';
  if (status === 603) return 'declined';
  return 'trunk_error';
}
