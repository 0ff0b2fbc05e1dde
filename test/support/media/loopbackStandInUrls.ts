/**
 * Play URLs the loopback stand-in treats as test hooks, so tests of the worker layer can make a
 * worker misbehave without a test-only command in the production protocol.
 */

/** Playing this never answers: a request that times out on a worker alive but stuck. */
export const LOOPBACK_HANG_URL = 'loopback:never-answer';

/** Playing this answers, then blocks the worker's event loop for good: a worker that fails its health checks. */
export const LOOPBACK_BLOCK_URL = 'loopback:block-event-loop';
