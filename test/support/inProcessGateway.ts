import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, mergeConfig } from '../../src/config/loadConfig.js';
import { configSchema } from '../../src/config/schema.js';
import { Gateway } from '../../src/gateway.js';
import type { CpuTimes } from '../../src/observability/hostCpu.js';
import type { RegistrationTiming } from '../../src/signalling/registration/registrationTypes.js';
import { loopbackWorkerEntry } from './media/loopbackWorkerEntry.js';
import { AUTH_KEYS } from './testKeys.js';

export interface RunningGateway {
  gateway: Gateway;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * A whole gateway in the test process, on a free port with its own database in a temp folder.
 * `overrides` is merged over the defaults like a config file would be.
 *
 * A gateway always runs a media plane. Its workers run the loopback stand-in unless the test
 * names an entry (`workerEntryPath(RTP_WORKER_ENTRY)` for the real bridge, where audio matters).
 */
export async function startInProcessGateway(
  overrides: Record<string, unknown> = {},
  extra: {
    mediaWorkerEntry?: string;
    logger?: pino.Logger;
    cpuTimes?: () => CpuTimes;
    registrationTiming?: Partial<RegistrationTiming>;
    /** A Min-SE below the RFC's 90 s, for session timer tests (config cannot go under 90). */
    sessionTimerMinSeSeconds?: number;
  } = {},
): Promise<RunningGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-test-'));
  const base = mergeConfig(loadConfig({ env: {} }) as unknown as Record<string, unknown>, {
    http: { port: 0 },
    log: { level: 'silent' },
    store: { path: join(dir, 'gateway.db') },
    recording: { dir: join(dir, 'recordings') },
    auth: { keys: AUTH_KEYS },
    // One media worker is plenty for a test, and forks quicker than one per core. Tests share a
    // loaded machine: CPU admission is off unless a test turns it on.
    media: { workers: 1, maxCpuUtilization: 1 },
  });
  const config = configSchema.parse(mergeConfig(base, overrides));
  const gateway = await Gateway.open({
    config,
    logger: extra.logger ?? pino({ level: 'silent' }),
    version: '0.0.0-test',
    mediaWorkerEntry: extra.mediaWorkerEntry ?? loopbackWorkerEntry(),
    ...(extra.cpuTimes ? { cpuTimes: extra.cpuTimes } : {}),
    ...(extra.registrationTiming ? { registrationTiming: extra.registrationTiming } : {}),
    ...(extra.sessionTimerMinSeSeconds !== undefined
      ? { sessionTimerMinSeSeconds: extra.sessionTimerMinSeSeconds }
      : {}),
  });
  const url = await gateway.start();
  return {
    gateway,
    url,
    dir,
    stop: async () => {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
