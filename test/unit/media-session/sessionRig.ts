import pino from 'pino';
import { RtpSessionHandler } from '../../../src/media/session/RtpSessionHandler.js';
import type { RtpSessionHandlerOptions } from '../../../src/media/session/rtpSessionHandlerTypes.js';
import type {
  MediaEventName,
  MediaEvents,
  WorkerInit,
} from '../../../src/media/workers/mediaChannelTypes.js';
import { FakeBridgeFactory } from './fakeRoomBridge.js';

/**
 * A media worker's session handler in the test process, on 20 ports of its own from `basePort`
 * (PCMU and telephone-event), its events observable with `nextEvent`. `cleanup` gets its shutdown.
 */
export function sessionRig(
  cleanup: (() => unknown)[],
  basePort: number,
  secureMediaTimers?: RtpSessionHandlerOptions['secureMediaTimers'],
) {
  const base = basePort + Math.floor(Math.random() * 150) * 20;
  const init: WorkerInit = {
    workerIndex: 0,
    portRange: { min: base, max: base + 19 },
    bindAddress: '127.0.0.1',
    advertisedAddress: '127.0.0.1',
    codecs: ['PCMU', 'telephone-event'],
    timeoutInitialSeconds: 30,
    timeoutSeconds: 15,
  };
  const listeners: ((event: MediaEventName, data: unknown) => void)[] = [];
  const handler = new RtpSessionHandler(
    {
      init,
      events: {
        emit: (event, data) => {
          for (const listener of listeners) listener(event, data);
        },
      },
    },
    {
      bridges: new FakeBridgeFactory(440),
      logger: pino({ level: 'silent' }),
      ...(secureMediaTimers ? { secureMediaTimers } : {}),
    },
  );
  cleanup.push(() => handler.shutdown());
  const nextEvent = <E extends MediaEventName>(name: E): Promise<MediaEvents[E]> =>
    new Promise((resolve) =>
      listeners.push((event, data) => {
        if (event === name) resolve(data as MediaEvents[E]);
      }),
    );
  return { handler, nextEvent };
}
