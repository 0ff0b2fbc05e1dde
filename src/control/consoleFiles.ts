import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the agent console's files are: its static files in web/console, its bundle in
 * dist/web/console (`npm run build` makes it). This module runs from dist/src/control (npm start)
 * or from src/control (vitest), so the repository root is three or two folders up.
 */
export function consoleDirs(moduleUrl: string = import.meta.url): { sourceDir: string; bundleDir: string } {
  const here = dirname(fileURLToPath(moduleUrl));
  const root = moduleUrl.endsWith('.js') ? resolve(here, '..', '..', '..') : resolve(here, '..', '..');
  return { sourceDir: join(root, 'web', 'console'), bundleDir: join(root, 'dist', 'web', 'console') };
}
