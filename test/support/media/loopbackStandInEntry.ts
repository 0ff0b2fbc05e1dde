/**
 * Media worker entry running the loopback stand-in (LoopbackStandInHandler) instead of the media
 * bridge. Workers fork compiled JavaScript, so this is built by tsconfig.test-support.json to
 * dist/test/support/media/loopbackStandInEntry.js; tests get that path from loopbackWorkerEntry().
 */
import { runMediaWorker } from '../../../src/media/workers/runMediaWorker.js';
import { LoopbackStandInHandler } from './loopbackStandInHandler.js';

runMediaWorker((context) => new LoopbackStandInHandler(context));
