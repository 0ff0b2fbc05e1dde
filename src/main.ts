import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError } from './config/configError.js';
import { configFileFrom, loadConfig } from './config/loadConfig.js';
import type { GatewayConfig } from './config/schema.js';
import { Gateway } from './gateway.js';
import { RTP_WORKER_ENTRY, workerEntryPath } from './media/workers/workerEntryPath.js';
import { createLogger } from './observability/logger.js';

/** Exit codes: 0 clean stop, 1 runtime failure, 2 bad configuration (retrying will not help). */
const EXIT_CONFIG = 2;
const EXIT_FAILURE = 1;

function packageVersion(): string {
  // main.js runs from dist/src/, two levels below the package root.
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

function readConfig(): GatewayConfig {
  try {
    return loadConfig({ file: configFileFrom(process.argv.slice(2), process.env), env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`config error: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
}

function handleSignals(gateway: Gateway, logger: Logger): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(EXIT_FAILURE);
    }
    signalled = true;
    logger.info({ signal }, 'shutting down');
    gateway.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ ...config.log, isTty: process.stdout.isTTY === true });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    process.exit(EXIT_FAILURE);
  });
  const gateway = await Gateway.open({
    config,
    logger,
    version: packageVersion(),
    mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY),
  });
  handleSignals(gateway, logger);
  await gateway.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(EXIT_FAILURE);
});
