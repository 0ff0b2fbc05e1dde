import type { GatewayConfig } from '../../config/schema.js';
import type { WorkerPoolOptions } from './workerPoolTypes.js';

/**
 * Sessions per worker when nothing else is said. From issue 4's measurements (about 0.16 ms
 * of CPU per 10 ms frame captured into rtc-node, and per-frame cost rising with the calls in
 * one process) a few dozen calls keep one core well clear of saturation; the benchmark is
 * where this number should be tuned.
 */
export const DEFAULT_MAX_SESSIONS_PER_WORKER = 40;

type FromConfig = 'workers' | 'portRange' | 'codecs' | 'timeoutInitialSeconds' | 'timeoutSeconds';

/** Pool options from the `media` config section plus what config does not (yet) hold. */
export function workerPoolOptionsFromConfig(
  media: GatewayConfig['media'],
  rest: Omit<WorkerPoolOptions, FromConfig | 'maxSessionsPerWorker'> & { maxSessionsPerWorker?: number },
): WorkerPoolOptions {
  return {
    ...rest,
    workers: media.workers,
    portRange: { min: media.rtpPortMin, max: media.rtpPortMax },
    codecs: [...media.codecs],
    timeoutInitialSeconds: media.timeoutInitialSeconds,
    timeoutSeconds: media.timeoutSeconds,
    maxSessionsPerWorker: rest.maxSessionsPerWorker ?? DEFAULT_MAX_SESSIONS_PER_WORKER,
  };
}
