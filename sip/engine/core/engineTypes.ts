import type { AppRegistry } from '../apps/AppRegistry.js';
import type { AppsLogger } from '../apps/appsLogger.js';
import type { TimerConfig } from '../transaction/timerConfig.js';
import type { TransportLayer } from '../transport/transportLayer.js';

export interface SipEngineOptions {
  /** Listening transport layer (its listeners bound by the caller). */
  transport: TransportLayer;
  registry: AppRegistry;
  logger: AppsLogger;
  timers?: Partial<TimerConfig>;
  newId?: () => string;
  now?: () => number;
}
