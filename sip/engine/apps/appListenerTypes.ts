import type { AppRegistry } from './AppRegistry.js';
import type { AppsLogger } from './appsLogger.js';

export interface AppListenerOptions {
  /** Admin address (drachtio-server's `--address`; its default, 0.0.0.0, comes from the CLI layer). */
  address: string;
  /** Admin port; drachtio-server's `--port`, default 9022. 0 picks a free port. */
  port: number;
  secret: string;
  registry: AppRegistry;
  /** Hostports to report on authentication (hostports.ts), read per authentication. */
  hostports: () => readonly string[];
  logger: AppsLogger;
  /** `vX.Y.Z`; default DEFAULT_SERVER_VERSION. */
  version?: string;
  maxFrameBytes?: number;
  newMsgId?: () => string;
}

export const DEFAULT_ADMIN_PORT = 9022;
