import { pino } from 'pino';
import type { AppsLogger } from './apps/appsLogger.js';
import type { EngineLogLevel } from './cli/engineOptionsTypes.js';

const PINO_LEVEL: Record<EngineLogLevel, string> = {
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warning: 'warn',
  error: 'error',
};

/** JSON lines on stdout (drachtio-server's `--stdout`), at drachtio's level names mapped to pino's. */
export function createEngineLogger(level: EngineLogLevel): AppsLogger & { fatal: AppsLogger['error'] } {
  const logger = pino({ level: PINO_LEVEL[level], base: { name: 'sip-engine', pid: process.pid } });
  return {
    debug: (fields, msg) => logger.debug(fields, msg),
    info: (fields, msg) => logger.info(fields, msg),
    warn: (fields, msg) => logger.warn(fields, msg),
    error: (fields, msg) => logger.error(fields, msg),
    fatal: (fields, msg) => logger.fatal(fields, msg),
  };
}
