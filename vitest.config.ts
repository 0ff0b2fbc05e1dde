import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that load the machine to its limit run on their own afterwards (vitest.load.config.ts,
 * `npm test` runs both): beside another test file their audio checks would judge the neighbour's
 * CPU, not the gateway.
 */
export const LOAD_TESTS = ['test/integration/parallelCalls.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...LOAD_TESTS],
    // Integration tests start real processes (livekit-server, the gateway, sipp); give them room.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests bind real ports and spawn processes; two cores do not gain from more forks.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
