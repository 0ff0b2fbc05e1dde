import { Redis, ReplyError } from 'ioredis';
import type { ClusterConfig } from '../config/clusterSchema.js';

/**
 * Redis could not answer (down, unreachable, too slow). Callers refuse new work with 503 rather
 * than guess: admitting without the cluster-wide count could exceed an app's limit.
 */
export class ClusterUnavailableError extends Error {
  readonly code = 'cluster_unavailable';

  constructor(what: string, cause: unknown) {
    // A reply error is Redis answering "no" (a script error, OOM, LOADING after a restart), not
    // silence; the message says which, the caller refuses the call either way.
    const how = cause instanceof ReplyError ? 'Redis refused' : 'Redis unavailable';
    super(`${what}: ${how} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = 'ClusterUnavailableError';
  }
}

/** Runs one Redis operation, turning any failure of Redis into a ClusterUnavailableError. */
export async function viaRedis<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new ClusterUnavailableError(what, error);
  }
}

/** The longest between two reconnect attempts: a restarted Redis is used again within this. */
const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * An ioredis client tuned for the gateway's hot path: while Redis is unreachable a command fails
 * at once (no offline queue) or after commandTimeoutMs (a connection that hangs), never waits for
 * a reconnect, so a call waiting on admission is refused with 503 in about a second instead of
 * hanging; reconnects go on in the background every second at most. Not connected yet: call
 * `connectClusterRedis` (commands fail until it is ready, since nothing queues them).
 */
export function createClusterRedis(
  config: Pick<ClusterConfig, 'redisUrl' | 'nodeId' | 'commandTimeoutMs'>,
): Redis {
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: Math.max(config.commandTimeoutMs, 1000),
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    // CLIENT LIST on the Redis side then names which node each connection belongs to.
    connectionName: `gateway:${config.nodeId}`,
  });
  // Connection errors repeat on every reconnect attempt; each failed command reports its own, and
  // NodeLease logs an outage once. Without a listener ioredis prints every attempt to stderr.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * Connects and waits until the client is ready (rejects after `timeoutMs`, leaving the client to
 * keep reconnecting in the background; `disconnect()` it to give up).
 */
export async function connectClusterRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
    timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new ClusterUnavailableError('connect', new Error(`not ready within ${timeoutMs} ms`)));
    }, timeoutMs);
  });
  // connect() rejects on the first failed attempt while retryStrategy keeps trying: the 'ready'
  // event (or the timeout) decides, not that first attempt.
  if (redis.status === 'wait') redis.connect().catch(() => undefined);
  await ready;
}
