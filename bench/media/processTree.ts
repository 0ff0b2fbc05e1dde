import { readdirSync, readFileSync } from 'node:fs';
import { cpuSeconds, rssBytes } from '../sip-engine/procStats.js';

/** Process ids whose parent is `pid`, with their command names (Linux /proc). */
export function childrenOf(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** CPU seconds and RSS of a set of processes, summed; a process that has gone counts 0. */
export function sample(pids: number[]): { cpu: number; rss: number } {
  let cpu = 0;
  let rss = 0;
  for (const pid of pids) {
    try {
      cpu += cpuSeconds(pid);
      rss += rssBytes(pid);
    } catch {
      // gone
    }
  }
  return { cpu, rss };
}

/** Busy and total jiffies of the whole machine (/proc/stat), to show what everyone else used. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

export function loadAverage(): [number, number, number] {
  const [one, five, fifteen] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [one ?? 0, five ?? 0, fifteen ?? 0];
}

/**
 * CPU seconds of a process's threads, summed by thread name: the Node main thread shows under
 * the process name, libuv's pool as "libuv-worker", rtc-node's native runtime under its own
 * names, so a call's cost splits into JavaScript and native work.
 */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      // Numbered threads (e.g. "tokio-runtime-w", "V8 Worker") are grouped by their name without digits.
      const name = stat
        .slice(stat.indexOf('(') + 1, close)
        .replace(/[\d]+$/, '')
        .trim();
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The thread ended while we looked.
    }
  }
  return out;
}
