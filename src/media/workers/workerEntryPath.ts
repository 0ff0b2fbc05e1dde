import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real media bridge: RTP ⇄ LiveKit (RtpSessionHandler). */
export const RTP_WORKER_ENTRY = 'rtpWorkerEntry.js';

/**
 * Absolute path of a compiled worker entry file in this directory.
 *
 * Workers are forked from JavaScript in dist/, never from TypeScript sources: a child process
 * has no TypeScript loader. Running from dist (npm start), the entry is this module's sibling.
 * Running from src under vitest (this module is a .ts file), it is the same relative path under
 * dist/, which is why tests run after `npm run build` (`npm test` builds first).
 */
export function workerEntryPath(fileName: string, moduleUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(moduleUrl));
  if (moduleUrl.endsWith('.js')) return join(here, fileName);
  const root = resolve(here, '..', '..', '..');
  return join(root, 'dist', 'src', 'media', 'workers', fileName);
}
