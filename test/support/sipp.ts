import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from '../../src/launcher/freePorts.js';
import type {
  SippBuiltinScenario,
  SippCommonOptions,
  SippResult,
  SippRunOptions,
  SippServer,
  SippServerOptions,
  SippStats,
  SippTransport,
} from './sippTypes.js';

export type * from './sippTypes.js';

/**
 * sipp (Debian sip-tester 3.6.1) as a child process, for tests that need a real SIP peer.
 *
 * Every run gets its own work folder (sipp's cwd) holding the statistics CSV (`-trace_stat -stf
 * stats.csv -fd 1`), the error log (`-trace_err`), the message log (`-trace_msg`) and the `<log>`
 * action log (`-trace_logs`). Call counts come from the CSV's last row: sipp writes a row when it
 * starts, every second, and once more when it exits (also on SIGTERM), so the last row is final.
 *
 * A server is "ready" when the CSV has its first data row with no fatal error counted: sipp writes
 * it at the top of its traffic loop, after binding (and, for TCP, listening on) its SIP socket. The
 * harness watches the work folder for that (inotify through fs.watch), so readiness is an event,
 * not a sleep, and probing the port (which would start a call in the scenario under test) is not
 * needed. sipp binds with SO_REUSEADDR: a UDP port another sipp holds does not fail its bind.
 */

export const SIPP_BIN = process.env.SIPP_BIN ?? 'sipp';
export const SCENARIO_DIR = fileURLToPath(new URL('../scenarios/', import.meta.url));
/** Where Debian puts the pcaps (`g711a.pcap`, `dtmf_2833_*.pcap`); linked as `pcap/` in each work folder. */
export const PCAP_DIR = '/usr/share/sip-tester';

const BUILTIN_SCENARIOS: ReadonlySet<string> = new Set<SippBuiltinScenario>([
  'uac',
  'uas',
  'uac_pcap',
  'regexp',
  'branchc',
  'branchs',
  '3pcc-C-A',
  '3pcc-C-B',
  '3pcc-A',
  '3pcc-B',
]);

const DEFAULT_RUN_TIMEOUT_MS = 30_000;
const DEFAULT_SERVER_TIMEOUT_MS = 120_000;
const DEFAULT_GRACE_MS = 6_000;
/** How long sipp gets to write its final stats after SIGTERM before SIGKILL. */
const TERM_GRACE_MS = 2_000;
/** sipp's -2 exit: it could not bind its port. A server on a harness-picked port retries this. */
const EXIT_BIND_ERROR = 254;
const BIND_ATTEMPTS = 3;

/** A run killed by its hard timeout; `result` holds whatever sipp logged until then. */
export class SippTimeoutError extends Error {
  constructor(
    message: string,
    readonly result: SippResult,
  ) {
    super(`${message}\n${formatSippResult(result)}`);
    this.name = 'SippTimeoutError';
  }
}

/** A server that exited before it was ready (bad scenario, missing -key, port taken…). */
export class SippStartError extends Error {
  constructor(
    message: string,
    readonly result: SippResult,
  ) {
    super(`${message}\n${formatSippResult(result)}`);
    this.name = 'SippStartError';
  }
}

/**
 * Places calls and resolves once sipp exits by itself (after `calls`, default 1), whatever its exit
 * code; rejects with a SippTimeoutError if the hard timeout has to kill it.
 */
export async function runSipp(options: SippRunOptions): Promise<SippResult> {
  const localPort = options.localPort ?? (await freePort(options.transport));
  const args = [
    formatTarget(options.target),
    ...commonArgs(options, localPort),
    ...numberArg('-m', options.calls ?? 1),
    ...numberArg('-r', options.rate),
    ...numberArg('-rp', options.ratePeriodMs),
    ...numberArg('-l', options.maxConcurrent),
    ...(options.extraArgs ?? []),
  ];
  const sipp = await SippProcess.start(args, options);
  return sipp.resultWithin(options.hardTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS);
}

/**
 * Starts a sipp that waits for calls (a UAS scenario) and resolves once it is bound and ready.
 * Without `localPort` it picks a free port and retries another if sipp loses the race for it.
 */
export async function startSippServer(options: SippServerOptions): Promise<SippServer> {
  for (let attempt = 1; ; attempt++) {
    const port = options.localPort ?? (await freePort(options.transport));
    const args = [
      ...commonArgs(options, port),
      ...numberArg('-m', options.calls),
      ...(options.extraArgs ?? []),
    ];
    const sipp = await SippProcess.start(args, options);
    const hardTimeoutMs = options.hardTimeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
    const exited = sipp.resultWithin(hardTimeoutMs);
    // A server nobody awaits must not turn its timeout into an unhandled rejection.
    exited.catch(() => {});
    if (await sipp.ready()) return new SippServerHandle(sipp, options, port, exited);
    const result = await exited.catch((error: SippTimeoutError) => error.result);
    const portTaken = result.exitCode === EXIT_BIND_ERROR && options.localPort === undefined;
    if (portTaken && attempt < BIND_ATTEMPTS) continue;
    throw new SippStartError(`sipp ${options.scenario} exited before it was ready`, result);
  }
}

/** Throws, with sipp's logs in the message, unless every call succeeded (and, if given, exactly `calls` did). */
export function assertAllCallsSucceeded(result: SippResult, calls?: number): void {
  const countOk = calls === undefined || result.successfulCalls === calls;
  if (result.exitCode === 0 && result.failedCalls === 0 && countOk) return;
  const expected = calls === undefined ? 'all calls to succeed' : `${calls} successful calls`;
  throw new Error(`expected ${expected}\n${formatSippResult(result)}`);
}

/** A readable account of a run for assertion messages: outcome, counters, and the ends of the logs. */
export function formatSippResult(result: SippResult): string {
  const failures = Object.entries(result.failures)
    .map(([name, count]) => `${name}=${count}`)
    .join(', ');
  return [
    `sipp ${result.command.join(' ')}`,
    `exit ${result.exitCode ?? result.signal} after ${result.durationMs} ms: ` +
      `${result.successfulCalls} successful, ${result.failedCalls} failed${failures ? ` (${failures})` : ''}`,
    section('stderr', result.stderr),
    section('error log', result.errorLog),
    section('messages', result.messageLog),
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * Parses sipp's `-trace_stat` CSV: a header line of column names, then one row per dump, cells
 * separated by `;` (each line also ends with one). Returns the rows as column → cell.
 */
export function parseSippStatsCsv(csv: string, delimiter = ';'): SippStats[] {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== '');
  const [header, ...rows] = lines.map((line) => splitRow(line, delimiter));
  if (!header) return [];
  return rows.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ''])));
}

/**
 * The counts a test asserts on, from one stats row: `SuccessfulCall(C)` and `FailedCall(C)` (the
 * cumulative columns; `(P)` ones only cover the last period), and each non-zero cumulative
 * `Failed…` reason such as `FailedUnexpectedMessage` or `FailedMaxUDPRetrans`.
 */
export function summarizeSippStats(
  stats: SippStats,
): Pick<SippResult, 'successfulCalls' | 'failedCalls' | 'failures'> {
  const failures: Record<string, number> = {};
  for (const [column, cell] of Object.entries(stats)) {
    const reason = /^(Failed\w+)\(C\)$/.exec(column)?.[1];
    if (!reason || reason === 'FailedCall') continue;
    const count = toCount(cell);
    if (count > 0) failures[reason] = count;
  }
  return {
    successfulCalls: toCount(stats['SuccessfulCall(C)']),
    failedCalls: toCount(stats['FailedCall(C)']),
    failures,
  };
}

/** `-sn` for sipp's built-in scenarios, `-sf` for files (bare names are looked up in test/scenarios). */
export function scenarioArgs(scenario: string): string[] {
  if (BUILTIN_SCENARIOS.has(scenario)) return ['-sn', scenario];
  const path = scenario.includes('/')
    ? scenario
    : join(SCENARIO_DIR, scenario.endsWith('.xml') ? scenario : `${scenario}.xml`);
  if (!existsSync(path)) throw new Error(`no sipp scenario ${scenario} (looked for ${path})`);
  return ['-sf', path];
}

/** Kills every sipp this module started that is still running (for afterAll hooks of failing suites). */
export function killAllSipp(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
}

// --- Command line --------------------------------------------------------------------------

/** Files the harness asks sipp to write, all inside the run's work folder. */
const FILES = {
  stats: 'stats.csv',
  errors: 'errors.log',
  messages: 'messages.log',
  actions: 'actions.log',
} as const;

function commonArgs(options: SippCommonOptions, localPort: number): string[] {
  const args = [
    ...scenarioArgs(options.scenario),
    '-t',
    options.transport ?? 'u1',
    '-i',
    options.localIp ?? '127.0.0.1',
    '-p',
    String(localPort),
    // No terminal: sipp must not read keys, and prints its screens once, at exit.
    '-nostdin',
    '-trace_stat',
    '-stf',
    FILES.stats,
    '-fd',
    '1',
    '-trace_err',
    '-error_file',
    FILES.errors,
    '-trace_logs',
    '-log_file',
    FILES.actions,
  ];
  if (options.traceMessages ?? true) args.push('-trace_msg', '-message_file', FILES.messages);
  if (options.service !== undefined) args.push('-s', options.service);
  if (options.authUser !== undefined) args.push('-au', options.authUser);
  if (options.authPassword !== undefined) args.push('-ap', options.authPassword);
  for (const [name, value] of Object.entries(options.keys ?? {})) args.push('-key', name, String(value));
  for (const [name, value] of Object.entries(options.variables ?? {})) args.push('-set', name, String(value));
  args.push(...numberArg('-lost', options.lossPercent));
  args.push(...numberArg('-d', options.pauseMs));
  args.push(...numberArg('-recv_timeout', options.recvTimeoutMs));
  args.push(...numberArg('-max_retrans', options.maxRetrans));
  if (options.sippTimeoutMs !== undefined) {
    // sipp arms alarm(seconds), so anything under a second would disable the timeout altogether.
    args.push('-timeout', `${Math.max(1, Math.ceil(options.sippTimeoutMs / 1000))}s`);
  }
  if (options.timeoutIsError) args.push('-timeout_error');
  if (options.autoAnswer) args.push('-aa');
  return args;
}

function numberArg(flag: string, value: number | undefined): string[] {
  return value === undefined ? [] : [flag, String(value)];
}

function formatTarget(target: SippRunOptions['target']): string {
  if (typeof target === 'string') return target;
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

function freePort(transport: SippTransport | undefined): Promise<number> {
  return (transport ?? 'u1').startsWith('t') ? freeTcpPort() : freeUdpPort();
}

// --- Process -------------------------------------------------------------------------------

const liveChildren = new Set<ChildProcess>();
// Never leave a sipp behind when the test worker exits, whatever state the tests left it in.
process.once('exit', killAllSipp);

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One sipp child: its work folder, output, exit, and the result read back from its files. */
class SippProcess {
  stdout = '';
  stderr = '';
  readonly exit: Promise<Exit>;
  private result: Promise<SippResult> | undefined;
  private readonly startedAt = Date.now();

  private constructor(
    readonly child: ChildProcess,
    readonly workDir: string,
    readonly command: string[],
    private readonly keepFiles: boolean,
  ) {
    liveChildren.add(child);
    this.exit = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        liveChildren.delete(child);
        resolve({ code, signal });
      });
      // A binary that cannot be spawned never closes: report it as an exit with the reason in stderr.
      child.once('error', (error) => {
        this.stderr += `${SIPP_BIN}: ${error.message}\n`;
        if (child.pid !== undefined) return;
        liveChildren.delete(child);
        resolve({ code: null, signal: null });
      });
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
  }

  static async start(args: string[], options: SippCommonOptions): Promise<SippProcess> {
    const workDir = await mkdtemp(join(tmpdir(), 'sipp-'));
    // uac_pcap (and scenarios written like it) play "pcap/<file>" relative to the cwd.
    await symlink(PCAP_DIR, join(workDir, 'pcap'));
    const child = spawn(SIPP_BIN, args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
    const keepFiles = options.keepFiles ?? process.env.SIPP_KEEP_FILES === '1';
    return new SippProcess(child, workDir, [SIPP_BIN, ...args], keepFiles);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /**
   * Resolves true once sipp wrote its first statistics row, i.e. it has bound its socket. A fatal
   * error (such as a port in use) also writes a row, on the way out, but that one has already
   * counted the error in FatalErrors(C), so it never passes for ready.
   */
  ready(): Promise<boolean> {
    const started = (text: string): boolean => {
      const rows = parseSippStatsCsv(text);
      return rows.length > 0 && rows.every((row) => toCount(row['FatalErrors(C)']) === 0);
    };
    return waitForFile(this.workDir, FILES.stats, started, this.exit);
  }

  /** The result once sipp exits; if it outlives `ms`, terminates it and rejects with its logs. */
  async resultWithin(ms: number): Promise<SippResult> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    const outcome = await Promise.race([this.exit, timedOut]);
    clearTimeout(timer);
    if (outcome !== 'timeout') return this.collect();
    await this.terminate();
    throw new SippTimeoutError(`sipp killed after its hard timeout of ${ms} ms`, await this.collect());
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGTERM (sipp then writes its final stats and screens), SIGKILL if it does not exit in time. */
  async terminate(): Promise<void> {
    this.signal('SIGTERM');
    if (await exitsWithin(this.exit, TERM_GRACE_MS)) return;
    this.signal('SIGKILL');
    await this.exit;
  }

  /** Reads sipp's files back once it has exited, then deletes its work folder. */
  collect(): Promise<SippResult> {
    this.result ??= this.exit.then(async ({ code, signal }) => {
      const [statsCsv, errorLog, messageLog, actionLog] = await Promise.all(
        [FILES.stats, FILES.errors, FILES.messages, FILES.actions].map((name) =>
          readOptional(join(this.workDir, name)),
        ),
      );
      if (!this.keepFiles) await rm(this.workDir, { recursive: true, force: true });
      const stats = parseSippStatsCsv(statsCsv ?? '').at(-1) ?? {};
      return {
        exitCode: code,
        signal,
        ...summarizeSippStats(stats),
        stats,
        stdout: this.stdout,
        stderr: this.stderr,
        errorLog: errorLog ?? '',
        messageLog: messageLog ?? '',
        actionLog: actionLog ?? '',
        command: this.command,
        pid: this.pid,
        durationMs: Date.now() - this.startedAt,
      };
    });
    return this.result;
  }
}

class SippServerHandle implements SippServer {
  readonly host: string;
  readonly transport: SippTransport;

  constructor(
    private readonly sipp: SippProcess,
    options: SippServerOptions,
    readonly port: number,
    readonly exited: Promise<SippResult>,
  ) {
    this.host = options.localIp ?? '127.0.0.1';
    this.transport = options.transport ?? 'u1';
  }

  get address(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  get pid(): number {
    return this.sipp.pid;
  }

  async stop(options: { graceful?: boolean; graceMs?: number } = {}): Promise<SippResult> {
    if (options.graceful ?? true) {
      // SIGUSR1 is sipp's soft exit (the 'q' key): no new calls, open ones run to their end.
      this.sipp.signal('SIGUSR1');
      if (!(await exitsWithin(this.sipp.exit, options.graceMs ?? DEFAULT_GRACE_MS)))
        await this.sipp.terminate();
    } else {
      await this.sipp.terminate();
    }
    return this.sipp.collect();
  }
}

// --- Helpers -------------------------------------------------------------------------------

async function exitsWithin(exit: Promise<Exit>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const exited = await Promise.race([exit.then(() => true), timeout]);
  clearTimeout(timer);
  return exited;
}

/**
 * Resolves true once `dir/name` exists and satisfies `done`, checking on every change in `dir`;
 * resolves false if `until` settles first (the process exited without getting there).
 */
function waitForFile(
  dir: string,
  name: string,
  done: (text: string) => boolean,
  until: Promise<unknown>,
): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    let checking = false;
    let again = false;
    const finish = (value: boolean): void => {
      if (settled) return;
      settled = true;
      watcher.close();
      resolve(value);
    };
    const check = async (): Promise<void> => {
      // Events come in bursts: one read at a time, and one more if something changed meanwhile.
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      do {
        again = false;
        const text = await readOptional(join(dir, name));
        if (text !== undefined && done(text)) finish(true);
      } while (again && !settled);
      checking = false;
    };
    const watcher = watch(dir, { persistent: false }, () => void check());
    watcher.on('error', () => finish(false));
    until.then(
      () => finish(false),
      () => finish(false),
    );
    void check();
  });
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

function splitRow(line: string, delimiter: string): string[] {
  const cells = line.split(delimiter);
  // Every row ends with the delimiter, which would otherwise add an empty last cell.
  if (cells.at(-1)?.trim() === '') cells.pop();
  return cells;
}

function toCount(cell: string | undefined): number {
  const value = Number.parseInt(cell ?? '', 10);
  return Number.isFinite(value) ? value : 0;
}

function section(title: string, text: string, max = 4000): string {
  const trimmed = text.trim();
  if (!trimmed) return '';
  const tail = trimmed.length > max ? `…${trimmed.slice(-max)}` : trimmed;
  return `--- ${title} ---\n${tail}`;
}
