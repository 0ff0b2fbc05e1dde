/**
 * Worker process entry with the LoopbackSessionHandler stand-in (tests of the worker layer).
 * Built to dist/src/media/workers/loopbackWorkerEntry.js; see workerEntryPath.ts.
 */
import { LoopbackSessionHandler } from './LoopbackSessionHandler.js';
import { runMediaWorker } from './runMediaWorker.js';

runMediaWorker((context) => new LoopbackSessionHandler(context));
