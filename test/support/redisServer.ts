import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeTcpPort } from '../../src/launcher/freePorts.js';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';
const READY_TIMEOUT_MS = 15_000;

/**
 * Why Redis tests cannot run here, or undefined when they can. Under CI a missing redis-server is
 * not a reason to skip (.ci/run installs it): the start then fails and the tests with it.
 */
export function redisServerMissing(): string | undefined {
  if (process.env.CI === 'true' || existsSync(REDIS_SERVER)) return undefined;
  return `${REDIS_SERVER} not found (apt-get install redis-server, or set REDIS_SERVER_BIN): Redis tests skipped`;
}

export interface RedisServer {
  port: number;
  url: string;
  /** Everything redis-server printed so far. */
  log(): string;
  /** Kills it (SIGKILL unless `graceful`) and waits for it to exit; its data is gone (no persistence). */
  stop(options?: { graceful?: boolean }): Promise<void>;
  /** Starts it again on the same port (after stop), empty, as a restarted Redis without persistence. */
  restart(): Promise<void>;
  /** SIGSTOP: it keeps its connections but answers nothing, as a hung or partitioned Redis. */
  pause(): void;
  /** SIGCONT after pause. */
  resume(): void;
  /** Stops it for good and removes its temp dir (afterAll). */
  dispose(): Promise<void>;
}

/**
 * A throwaway redis-server on a free loopback port, no persistence, in its own temp dir. Resolves
 * once it answers PING: it logs "Ready to accept connections" first, and the PING confirms it.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const port = await freeTcpPort();
  let output = '';
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    // Only this run's output counts: after a restart the previous run's "Ready" line is in `output`.
    const from = output.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`not ready within ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(new Error(`redis-server did not come up: ${error.message}\n${output}`));
      };
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections', from)) {
          clearTimeout(timer);
          proc.stdout?.off('data', onData);
          proc.stdout?.on('data', (more: Buffer) => (output += more.toString()));
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      proc.once('error', fail);
      proc.once('exit', (code, signal) => fail(new Error(`exited (${code ?? signal})`)));
    });
    await ping(port);
  };

  const stop = async (options: { graceful?: boolean } = {}): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(options.graceful ? 'SIGTERM' : 'SIGKILL');
    await exited;
  };

  try {
    await launch();
  } catch (error) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    log: () => output,
    stop: async (options) => {
      await stop(options);
    },
    restart: async () => {
      await stop();
      await launch();
    },
    pause: () => {
      child?.kill('SIGSTOP');
    },
    resume: () => {
      child?.kill('SIGCONT');
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ping(port: number): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    const answer = await client.ping();
    if (answer !== 'PONG') throw new Error(`PING answered ${answer}`);
  } finally {
    client.disconnect();
  }
}
