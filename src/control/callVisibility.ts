import type { CallService } from '../calls/callService.js';
import type { Call } from '../calls/callTypes.js';
import { ApiError } from './apiError.js';
import type { Principal } from './auth/apiKeys.js';

/** A call is visible to its app's keys and to admin keys. */
export function isVisible(call: Call | undefined, principal: Principal | undefined): call is Call {
  return call !== undefined && appVisible(call.appId, principal);
}

/** Whether this key may see the calls of app `appId`. */
export function appVisible(appId: string, principal: Principal | undefined): boolean {
  if (!principal) return false;
  return principal.role === 'admin' || (principal.role === 'app' && principal.appId === appId);
}

/**
 * The call if this key may see it. Another app's call answers 404, not 403: an app must not
 * learn which call ids exist elsewhere.
 */
export async function ownCall(
  calls: Pick<CallService, 'find'>,
  id: string,
  principal: Principal | undefined,
): Promise<Call> {
  const call = await calls.find(id);
  if (!isVisible(call, principal)) throw ApiError.notFound(`no call ${id}`);
  return call;
}
