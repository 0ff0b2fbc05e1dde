import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from './apiKeys.js';

/** Something that tells who an `Authorization: Bearer …` header belongs to. */
export interface Authenticator {
  authenticate(header: string | undefined): Principal | undefined;
}

/** The first authenticator that knows the header wins (API keys, then console sessions). */
export function anyOf(...authenticators: readonly Authenticator[]): Authenticator {
  return {
    authenticate: (header) => {
      for (const authenticator of authenticators) {
        const principal = authenticator.authenticate(header);
        if (principal) return principal;
      }
      return undefined;
    },
  };
}

export interface ConsoleLink {
  /** The one-time code; the page takes it from the URL's fragment, which is never sent anywhere. */
  code: string;
  expiresAt: Date;
}

export interface ConsoleSession {
  /** A bearer token the page keeps in sessionStorage and sends like an API key. */
  token: string;
  principal: Principal;
  expiresAt: Date;
}

export interface ConsoleSessionsOptions {
  now: () => Date;
  /** How long a link may wait to be opened (default 10 minutes). */
  linkTtlMs?: number;
  /** How long a session lasts once signed in (default 12 hours: a working day). */
  sessionTtlMs?: number;
  /** Outstanding links and sessions at most: the oldest go first (default 1000 each). */
  capacity?: number;
}

const DEFAULT_LINK_TTL_MS = 10 * 60_000;
const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;
const DEFAULT_CAPACITY = 1000;
const TOKEN_PREFIX = 'cs_';

interface Grant {
  principal: Principal;
  expiresAt: Date;
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * One-time console links and the sessions they open, so a person gets into the console without
 * the API key ever being shown, typed or put in a URL. A link is made by someone who holds a key
 * (`npm run up` with the admin key, or an app for one of its agents) and carries that key's
 * principal; opened once, it becomes a session token that works like the key until it expires
 * or is signed out. Codes and tokens are kept only as SHA-256 digests, in memory: a restart
 * signs everyone out, which is the safe side for credentials nobody wrote down.
 */
export class ConsoleSessions implements Authenticator {
  private readonly links = new Map<string, Grant>();
  private readonly sessions = new Map<string, Grant>();
  private readonly linkTtlMs: number;
  private readonly sessionTtlMs: number;
  private readonly capacity: number;

  constructor(private readonly options: ConsoleSessionsOptions) {
    this.linkTtlMs = options.linkTtlMs ?? DEFAULT_LINK_TTL_MS;
    this.sessionTtlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
    this.capacity = options.capacity ?? DEFAULT_CAPACITY;
  }

  createLink(principal: Principal): ConsoleLink {
    const code = randomBytes(24).toString('base64url');
    const expiresAt = new Date(this.options.now().getTime() + this.linkTtlMs);
    this.keep(this.links, digest(code), { principal, expiresAt });
    return { code, expiresAt };
  }

  /** Opens a session with a link's code; undefined if the code is unknown, used or expired. */
  redeem(code: string): ConsoleSession | undefined {
    const key = digest(code);
    const link = this.live(this.links, key);
    // Used once, whatever happens next.
    this.links.delete(key);
    if (!link) return undefined;
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(this.options.now().getTime() + this.sessionTtlMs);
    this.keep(this.sessions, digest(token), { principal: link.principal, expiresAt });
    return { token, principal: link.principal, expiresAt };
  }

  authenticate(header: string | undefined): Principal | undefined {
    const token = bearerToken(header);
    if (!token?.startsWith(TOKEN_PREFIX)) return undefined;
    return this.live(this.sessions, digest(token))?.principal;
  }

  /** Signs a session out; false if the header holds no live session token. */
  revoke(header: string | undefined): boolean {
    const token = bearerToken(header);
    return token?.startsWith(TOKEN_PREFIX) === true && this.sessions.delete(digest(token));
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  private live(table: Map<string, Grant>, key: string): Grant | undefined {
    const grant = table.get(key);
    if (!grant) return undefined;
    if (grant.expiresAt.getTime() > this.options.now().getTime()) return grant;
    table.delete(key);
    return undefined;
  }

  private keep(table: Map<string, Grant>, key: string, grant: Grant): void {
    const now = this.options.now().getTime();
    for (const [other, { expiresAt }] of table) if (expiresAt.getTime() <= now) table.delete(other);
    // Maps iterate in insertion order: the first is the oldest.
    while (table.size >= this.capacity) {
      const oldest = table.keys().next().value;
      if (oldest === undefined) break;
      table.delete(oldest);
    }
    table.set(key, grant);
  }
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}
