import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that load the machine to its limit run on their own afterwards (vitest.load.config.ts,
 * `npm test` runs both): beside another test file their audio checks would judge the neighbour's
 * CPU, not the gateway.
 */
export const LOAD_TESTS = [
  'test/integration/parallelCalls.test.ts',
  // Two nodes with their media workers, PostgreSQL, Redis, Kamailio and livekit-server at once,
  // with audio checked: beside another file both would judge each other's CPU.
  'test/integration/clusterKamailio.test.ts',
];

/**
 * Tests that hold received audio to the quiet-machine continuity bounds (QUIET_MACHINE in
 * test/support/audioContinuity.ts: 3 s without a gap over 40 ms or more than one damaged 20 ms
 * frame a second) run on their own afterwards too, one file at a time: beside another file a
 * worker stalled by the neighbour's CPU drops frames, and the bound would judge the neighbour.
 */
export const QUIET_TESTS = [
  'test/integration/livekitRig.test.ts',
  'test/integration/mediaSession.test.ts',
  'test/integration/callAudio.test.ts',
  'test/integration/outboundAudio.test.ts',
  'test/integration/earlyMedia.test.ts',
  'test/integration/callFlows.test.ts',
];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...QUIET_TESTS, ...LOAD_TESTS],
    // Integration tests start real processes (livekit-server, the gateway, sipp); give them room.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests bind real ports and spawn processes; two cores do not gain from more forks.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
