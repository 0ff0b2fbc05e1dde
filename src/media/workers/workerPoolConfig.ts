import type { GatewayConfig } from '../../config/schema.js';
import type { WorkerPoolOptions } from './workerPoolTypes.js';

type FromConfig =
  | 'workers'
  | 'portRange'
  | 'codecs'
  | 'timeoutInitialSeconds'
  | 'timeoutSeconds'
  | 'maxSessionsPerWorker'
  | 'profileDir';

/** Pool options from the `media` config section plus what config does not hold. */
export function workerPoolOptionsFromConfig(
  media: GatewayConfig['media'],
  rest: Omit<WorkerPoolOptions, FromConfig>,
): WorkerPoolOptions {
  return {
    ...rest,
    workers: media.workers,
    portRange: { min: media.rtpPortMin, max: media.rtpPortMax },
    codecs: [...media.codecs],
    timeoutInitialSeconds: media.timeoutInitialSeconds,
    timeoutSeconds: media.timeoutSeconds,
    maxSessionsPerWorker: media.maxSessionsPerWorker,
    ...(media.workerProfileDir ? { profileDir: media.workerProfileDir } : {}),
  };
}
