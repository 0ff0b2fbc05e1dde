import pino from 'pino';
import { expect, it } from 'vitest';
import { ApiKeyRing } from '../../../src/control/auth/apiKeys.js';
import { createHttpServer } from '../../../src/control/httpServer.js';
import { Metrics } from '../../../src/observability/metricsRegistry.js';

it('starts and stops without a process warning: Node prints those as plain text into the JSON log', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }) =>
    warnings.push(`${warning.code}: ${warning.message}`);
  process.on('warning', onWarning);
  try {
    const app = createHttpServer({
      logger: pino({ level: 'silent' }),
      keys: new ApiKeyRing([]),
      metrics: new Metrics(),
      routes: [],
      version: '0.0.0-test',
      bodyLimitBytes: 1024,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    await app.close();
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  expect(warnings).toEqual([]);
});
