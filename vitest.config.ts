import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real processes (livekit-server, the gateway, sipp); give them room.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests bind real ports and spawn processes; two cores do not gain from more forks.
    pool: 'forks',
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
