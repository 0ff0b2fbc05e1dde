import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * The built gateway (`dist/src/main.js`, as `npm start` runs it) as a child process, with its
 * JSON log parsed so tests wait on what it says rather than on time.
 */
export class GatewayProcess {
  readonly lines: LogLine[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  private readonly waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [MAIN, ...args], {
      // Tests share a loaded machine: CPU admission is off unless a test turns it on.
      env: { PATH: process.env.PATH ?? '', GATEWAY_MEDIA__MAX_CPU_UTILIZATION: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code, signal }));
    let buffer = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          continue;
        }
        this.lines.push(line);
        for (const waiter of [...this.waiters]) {
          if (!waiter.match(line)) continue;
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
  }

  /** Resolves with the first log line (past or future) whose msg is `msg`; rejects if the process exits first. */
  waitForLog(msg: string): Promise<LogLine> {
    const seen = this.lines.find((line) => line.msg === msg);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ match: (line) => line.msg === msg, resolve });
      this.exited.then(({ code }) =>
        reject(new Error(`gateway exited (code ${code}) before logging "${msg}"\n${this.stderr}`)),
      );
    });
  }

  /** Waits for start-up and returns the base URL the gateway bound. */
  async ready(): Promise<string> {
    return String((await this.waitForLog('gateway listening')).address);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
