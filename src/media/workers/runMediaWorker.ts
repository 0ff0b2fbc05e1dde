import type { SessionHandlerFactory } from './sessionHandlerTypes.js';
import { WorkerRuntime } from './WorkerRuntime.js';
import type { ParentPort } from './workerRuntimeTypes.js';

/**
 * Runs a worker process's channel over Node IPC. Called by each worker entry file with the
 * handler it ships (rtpWorkerEntry.ts: the media bridge).
 */
export function runMediaWorker(createHandler: SessionHandlerFactory): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('a media worker must be started by WorkerPool (child_process.fork with IPC)');
  const port: ParentPort = {
    send(message) {
      if (!process.connected) return;
      send(message, undefined, undefined, () => {
        // A send failing means the parent is gone; 'disconnect' handles that.
      });
    },
    on(event: 'message' | 'disconnect', listener: (message: unknown) => void) {
      process.on(event, listener);
    },
    exit() {
      // Let the last response flush through the pipe, then drop the channel; with no sockets
      // left open the event loop empties and the process ends on its own. The unref'd timer
      // only fires if something still holds the loop, and then ends the process anyway.
      setImmediate(() => {
        if (process.connected) process.disconnect();
        setTimeout(() => process.exit(0), 1000).unref();
      });
    },
  };
  // Ctrl-C in a terminal signals the whole process group; the main process decides when its
  // workers stop (closing their calls first), so a worker must not die of it on its own.
  process.on('SIGINT', () => {});
  new WorkerRuntime(port, createHandler).start();
}
