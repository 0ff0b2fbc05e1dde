import { createHash } from 'node:crypto';
import type { ApiKeyConfig } from '../../config/schema.js';

export type Principal = { role: 'admin' } | { role: 'metrics' } | { role: 'app'; appId: string };

function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * The configured API keys. Keys are looked up by their SHA-256, so the lookup's timing says
 * nothing about how much of a guessed key was right, and the raw keys are not kept around.
 */
export class ApiKeyRing {
  private readonly byDigest = new Map<string, Principal>();

  constructor(keys: readonly ApiKeyConfig[]) {
    for (const entry of keys) {
      const principal: Principal =
        entry.role === 'app' ? { role: 'app', appId: entry.appId } : { role: entry.role };
      this.byDigest.set(digest(entry.key), principal);
    }
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** The principal behind an `Authorization: Bearer <key>` header, or undefined. */
  authenticate(header: string | undefined): Principal | undefined {
    if (!header) return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) return undefined;
    return this.byDigest.get(digest(match[1]));
  }
}
