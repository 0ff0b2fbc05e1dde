import { ApiError } from '../apiError.js';
import type { Principal } from './apiKeys.js';

/**
 * Who may call a route:
 * - public: anyone (health only);
 * - any: any valid key;
 * - metrics: admin or metrics keys (a scraper needs no power to change anything);
 * - admin: admin keys;
 * - app: the key of the app named in the path (`appId` param), or an admin key;
 * - callReader: any app key or an admin key; the handler checks that the call is the app's own.
 * - appKey: app keys only, acting for their own app (placing a call: the key says whose call it is).
 */
export type Access = 'public' | 'any' | 'metrics' | 'admin' | 'app' | 'callReader' | 'appKey';

export function authorize(access: Access, principal: Principal | undefined, pathAppId?: string): void {
  if (access === 'public') return;
  if (!principal) {
    throw new ApiError(401, 'unauthorized', 'a valid API key is required (Authorization: Bearer <key>)');
  }
  switch (access) {
    case 'any':
      return;
    case 'metrics':
      if (principal.role === 'admin' || principal.role === 'metrics') return;
      throw new ApiError(403, 'forbidden', 'this endpoint needs an admin or metrics key');
    case 'admin':
      if (principal.role === 'admin') return;
      throw new ApiError(403, 'forbidden', 'this endpoint needs an admin key');
    case 'callReader':
      if (principal.role === 'admin' || principal.role === 'app') return;
      throw new ApiError(403, 'forbidden', 'this endpoint needs an app or admin key');
    case 'appKey':
      if (principal.role === 'app') return;
      throw new ApiError(
        403,
        'forbidden',
        "this endpoint needs an app key: calls are placed by an app, with that app's key",
      );
    case 'app':
      if (principal.role === 'admin') return;
      if (principal.role === 'app' && (pathAppId === undefined || principal.appId === pathAppId)) return;
      throw new ApiError(403, 'forbidden', 'this key may not act for this app');
  }
}
