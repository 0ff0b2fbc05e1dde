import { defineConfig } from 'vitest/config';
import base, { LOAD_TESTS } from './vitest.config.js';

/** The load tests alone, one file at a time, with the machine to themselves. */
export default defineConfig({
  test: {
    ...base.test,
    include: LOAD_TESTS,
    exclude: [],
    maxWorkers: 1,
  },
});
