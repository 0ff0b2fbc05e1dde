import pino, { type Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  /** Whether stdout is a terminal; decides `auto`. */
  isTty: boolean;
}

/**
 * Authorization headers, API keys and secrets never reach a log line, whichever part logs them.
 * Paths are pino redaction paths relative to the logged object.
 */
const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  "headers['d360-api-key']",
  '*.accessToken',
  '*.appSecret',
  '*.verifyToken',
  'accessToken',
  'appSecret',
  'verifyToken',
  '*.apiKey',
  '*.apiSecret',
  '*.secret',
  '*.token',
  '*.key',
  '*.password',
  'apiSecret',
  'secret',
  'token',
  'password',
];

/** JSON lines for machines; pretty only when a person is watching a terminal (or asks for it). */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && options.isTty);
  return pino({
    level: options.level,
    base: { service: 'gateway' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
