import { defineConfig } from 'vitest/config';
import base, { LOAD_TESTS, QUIET_TESTS } from './vitest.config.js';

/** The tests that need the machine to themselves (quiet-machine audio, then load), one file at a time. */
export default defineConfig({
  test: {
    ...base.test,
    include: [...QUIET_TESTS, ...LOAD_TESTS],
    exclude: [],
    maxWorkers: 1,
  },
});
