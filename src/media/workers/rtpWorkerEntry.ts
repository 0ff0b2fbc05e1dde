/**
 * Worker process entry of the media bridge: RtpSessionHandler with real LiveKit participants.
 * Built to dist/src/media/workers/rtpWorkerEntry.js; see workerEntryPath.ts.
 */
import pino from 'pino';
import { LiveKitBridgeFactory } from '../session/liveKitBridgeFactory.js';
import { RtpSessionHandler } from '../session/RtpSessionHandler.js';
import { runMediaWorker } from './runMediaWorker.js';

runMediaWorker((context) => {
  // stderr is the main process's (fork inherits it); the worker's lines say which worker wrote them.
  const logger = pino(
    { base: { mediaWorker: context.init.workerIndex, pid: process.pid } },
    pino.destination(2),
  );
  return new RtpSessionHandler(context, { bridges: new LiveKitBridgeFactory(logger), logger });
});
