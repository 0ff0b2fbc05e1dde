import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freeTcpPort } from '../../src/launcher/freePorts.js';

const BIN_DIR = process.env.POSTGRES_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
const READY_TIMEOUT_MS = 30_000;
/** PostgreSQL refuses to run as root; as root the server runs as this OS user. */
const OS_USER = 'postgres';

/**
 * Why PostgreSQL tests cannot run here, or undefined when they can. Under CI a missing server is
 * not a reason to skip (.ci/run installs it): the start then fails and the tests with it.
 */
export function postgresServerMissing(): string | undefined {
  if (process.env.CI === 'true' || existsSync(join(BIN_DIR, 'postgres'))) return undefined;
  return `${BIN_DIR}/postgres not found (apt-get install postgresql, or set POSTGRES_BIN_DIR): PostgreSQL tests skipped`;
}

export interface PostgresServer {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth on loopback: no password). */
  url: string;
  log(): string;
  /** Stops it (fast shutdown) and removes its data dir. */
  stop(): Promise<void>;
  /** Stops the server keeping its data (an outage), and starts it again on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/**
 * A throwaway PostgreSQL 15 on a free loopback port: initdb into a temp dir, fsync off (its data
 * is thrown away anyway), socket in the same temp dir. Resolves once it accepts connections.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const root = mkdtempSync(join(tmpdir(), 'postgres-'));
  const data = join(root, 'data');
  const socketDir = join(root, 'socket');
  mkdirSync(data);
  mkdirSync(socketDir);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', OS_USER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', OS_USER], { encoding: 'utf8' }).trim());
    for (const path of [root, data, socketDir]) chownSync(path, uid, gid);
  }
  /** The command line, run as the postgres OS user when we are root. */
  const command = (bin: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', OS_USER, '--', join(BIN_DIR, bin), ...args]] : [join(BIN_DIR, bin), args];

  const port = await freeTcpPort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let output = '';
  let child: ChildProcess | undefined;
  /** Stops the server (fast shutdown), keeping its data. */
  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    // SIGINT: fast shutdown. Sent to the postmaster itself (its pid file), not to runuser, which
    // may not pass signals on; the child (runuser or postgres) exits when the postmaster does.
    const pid = postmasterPid(data);
    try {
      if (pid !== undefined) process.kill(pid, 'SIGINT');
      else proc.kill('SIGINT');
    } catch {
      proc.kill('SIGKILL');
    }
    await exited;
  };
  /** Starts the server on its port; resolves once it accepts connections. */
  const launch = async (): Promise<void> => {
    const [postgres, args] = command('postgres', [
      '-D',
      data,
      '-k',
      socketDir,
      '-p',
      String(port),
      '-h',
      '127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ]);
    const proc = spawn(postgres, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let exited: string | undefined;
    proc.once('exit', (code, signal) => (exited = `exited (${code ?? signal})`));
    proc.once('error', (error) => (exited = error.message));
    await acceptsConnections(url, () => exited);
  };
  const cleanUp = async (): Promise<void> => {
    await halt();
    rmSync(root, { recursive: true, force: true });
  };

  try {
    const [initdb, initArgs] = command('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '--encoding=UTF8',
      '--locale=C',
    ]);
    try {
      execFileSync(initdb, initArgs, { stdio: 'pipe' });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`initdb failed: ${(error as Error).message}\n${stderr}`);
    }
    await launch();
    return { port, url, log: () => output, stop: cleanUp, pause: halt, resume: launch };
  } catch (error) {
    await cleanUp();
    throw new Error(`postgres did not come up: ${(error as Error).message}\n${output}`);
  }
}

function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Errors that mean "not yet": nothing listening, or the server still starting up (57P03). */
function notYet(error: unknown): boolean {
  const { code } = error as { code?: string };
  return code === 'ECONNREFUSED' || code === '57P03' || code === 'ECONNRESET';
}

/** Connects until it works, the server exits, or READY_TIMEOUT_MS passes. */
async function acceptsConnections(url: string, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let delay = 20;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      const gone = exited();
      if (gone) throw new Error(gone);
      if (!notYet(error)) throw error;
      if (Date.now() > deadline) throw new Error(`not accepting connections within ${READY_TIMEOUT_MS} ms`);
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 200);
  }
}
