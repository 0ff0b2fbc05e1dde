import type { FastifyRequest } from 'fastify';
import { type Access, authorize } from './access.js';
import type { Principal } from './apiKeys.js';
import type { Authenticator } from './consoleSessions.js';

/**
 * Checks a request's key when its headers arrive, before its body is read: a request without the
 * right key is answered 401/403 and its body is never buffered or parsed, so anyone without a key
 * cannot make the server spend time on bodies. Remembers who each admitted request came from.
 */
export class RequestAccess {
  private readonly principals = new WeakMap<FastifyRequest, Principal>();

  constructor(private readonly keys: Authenticator) {}

  /** An onRequest hook for a route of the given access; throws the 401/403 ApiError. */
  hookFor(access: Access): (request: FastifyRequest) => Promise<void> {
    return async (request) => {
      const principal = this.keys.authenticate(request.headers.authorization);
      // Only the app named in the path is needed to decide, and the path is known already.
      authorize(access, principal, (request.params as Record<string, string> | undefined)?.appId);
      if (principal) this.principals.set(request, principal);
    };
  }

  /** The key's principal behind an admitted request; undefined on public routes without a key. */
  principalOf(request: FastifyRequest): Principal | undefined {
    return this.principals.get(request);
  }
}
