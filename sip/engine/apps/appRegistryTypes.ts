import type { ProxyCommand, SipCommand } from '../wire/wireTypes.js';
import type { AppConnection } from './AppConnection.js';
import type { AppCloseReason } from './appConnectionTypes.js';

export interface AppRegistryEvents {
  /** An app authenticated. */
  connected: [connection: AppConnection];
  /** A connection closed (authenticated or not); its routes are already gone. */
  disconnected: [connection: AppConnection, reason: AppCloseReason];
  route: [connection: AppConnection, verb: string];
  removeRoute: [connection: AppConnection, verb: string];
  /** A `sip` command from an app, for the core to carry out and answer on `connection`. */
  sip: [connection: AppConnection, command: SipCommand];
  proxy: [connection: AppConnection, command: ProxyCommand];
  /** hasApps() changed. */
  readiness: [ready: boolean];
}

export interface AppRegistryCounts {
  /** Open admin connections, authenticated or not. */
  connections: number;
  authenticated: number;
  /** Pending sip/proxy commands over all connections. */
  pendingCommands: number;
  /** Number of apps routed per verb (`invite`, `cdr:stop`…). */
  routes: Record<string, number>;
}
