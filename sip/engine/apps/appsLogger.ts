/**
 * The logging surface the apps layer needs. It is the subset of pino's API the engine's process
 * entry hands in, so the engine never depends on a logging library here.
 */
export interface AppsLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export const silentAppsLogger: AppsLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
