import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where tsconfig.test-support.json puts the stand-in's compiled entry (rootDir is the repo). */
const ENTRY = new URL('../../../dist/test/support/media/loopbackStandInEntry.js', import.meta.url);

/**
 * Absolute path of the compiled loopback stand-in worker entry, for WorkerPool's `entryFile`
 * or the gateway's `mediaWorkerEntry`. A child process has no TypeScript loader, hence the
 * build (`npm test` runs it); a missing build is said here rather than as a worker that never starts.
 */
export function loopbackWorkerEntry(): string {
  const path = fileURLToPath(ENTRY);
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist: run \`npm run build:test-support\` (npm test does) first`);
  }
  return path;
}
