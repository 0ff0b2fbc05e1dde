import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * The functions with the most self time in V8 CPU profiles (.cpuprofile, as media workers write
 * them with media.workerProfileDir): `node dist/bench/media/profileTop.js <file>… [--top N]`.
 * Several files are summed (one per worker). Shares are of all samples, idle included, and of
 * the busy ones (idle, program and GC excluded from the second).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface Row {
  name: string;
  selfMs: number;
}

const NOT_BUSY = new Set(['(idle)', '(program)', '(garbage collector)']);

export function topFunctions(profiles: CpuProfile[]): { rows: Row[]; totalMs: number; busyMs: number } {
  const byName = new Map<string, number>();
  let totalMs = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    for (let i = 0; i < profile.samples.length; i++) {
      const node = nodes.get(profile.samples[i] as number);
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      totalMs += ms;
      if (!node) continue;
      const name = label(node);
      byName.set(name, (byName.get(name) ?? 0) + ms);
    }
  }
  const rows = [...byName].map(([name, selfMs]) => ({ name, selfMs })).sort((a, b) => b.selfMs - a.selfMs);
  const busyMs = rows.filter((row) => !NOT_BUSY.has(row.name)).reduce((sum, row) => sum + row.selfMs, 0);
  return { rows, totalMs, busyMs };
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (!url) return functionName || '(anonymous)';
  const file = url.includes('node_modules')
    ? url.slice(url.lastIndexOf('node_modules') + 'node_modules/'.length)
    : basename(url);
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

const isMain = process.argv[1]?.endsWith('profileTop.js');
if (isMain) {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
  const files = args.filter((_, i) => i !== topIndex && i !== topIndex + 1);
  const { rows, totalMs, busyMs } = topFunctions(
    files.map((file) => JSON.parse(readFileSync(file, 'utf8')) as CpuProfile),
  );
  console.log(
    `${files.length} profile(s), ${(totalMs / 1000).toFixed(1)} s sampled, ${(busyMs / 1000).toFixed(1)} s busy`,
  );
  console.log('self ms | % all | % busy | function');
  for (const row of rows.slice(0, top)) {
    const busy = NOT_BUSY.has(row.name) ? '' : ((100 * row.selfMs) / busyMs).toFixed(1);
    console.log(
      `${row.selfMs.toFixed(0).padStart(7)} | ${((100 * row.selfMs) / totalMs).toFixed(1).padStart(5)} | ${busy.padStart(6)} | ${row.name}`,
    );
  }
}
