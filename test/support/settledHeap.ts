import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Node options that let a test ask a process for its heap after a full garbage collection: on
 * SIGUSR2 node writes a heap snapshot into `dir`, and a snapshot collects garbage first. Nothing
 * in the program under test changes.
 */
export function heapSnapshotOptions(dir: string): string[] {
  return ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`];
}

/**
 * The heap in use by process `pid` (started with heapSnapshotOptions(dir)) just after a full
 * collection, read by `heapUsed` (its metrics). Writing the snapshot blocks the process's event loop,
 * so an answer that comes after the file appeared was measured after the collection.
 */
export async function settledHeap(
  pid: number,
  dir: string,
  heapUsed: () => Promise<number>,
): Promise<number> {
  const mine = () =>
    readdirSync(dir).filter((name) => name.includes(`.${pid}.`) && name.endsWith('.heapsnapshot'));
  for (const name of mine()) rmSync(join(dir, name));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 30_000;
  while (mine().length === 0) {
    if (Date.now() > deadline) throw new Error(`process ${pid} wrote no heap snapshot`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const used = await heapUsed();
  for (const name of mine()) rmSync(join(dir, name));
  return used;
}
