/**
 * Shared pieces of the sip-engine conformance tests: drachtio-srf apps connected to the engine
 * process, and sipp runs. Not a test file itself.
 */
import { spawn } from 'node:child_process';
import { type EventEmitter, once } from 'node:events';
import Srf from 'drachtio-srf';
import type { SipEngineProcess } from '../support/sipEngineProcess.js';

export const LOCAL_SDP =
  'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n';

// ---- the part of drachtio-srf's API the tests use (its bundled typings are incomplete) ----
export interface SrfRequest extends EventEmitter {
  method: string;
  uri: string;
  body: string;
  stackTxnId: string;
  get(name: string): string;
  has(name: string): boolean;
  cancel(cb?: (err: unknown) => void): void;
}
export interface SrfResponse {
  send(status: number, reason?: string, opts?: object): void;
  send(status: number, opts: object): void;
}
export interface SrfDialog extends EventEmitter {
  id: string;
  sip: { callId: string; localTag: string; remoteTag: string };
  remote: { sdp: string };
  local: { sdp: string };
  destroy(opts?: object): Promise<void>;
  modify(sdp: string): Promise<string>;
  request(opts: { method: string; headers?: Record<string, string>; body?: string }): Promise<{
    status: number;
  }>;
}
export interface SrfApp extends EventEmitter {
  connect(opts: object): unknown;
  disconnect(): void;
  use(method: string, handler: (req: SrfRequest, res: SrfResponse, next: () => void) => void): void;
  invite(handler: (req: SrfRequest, res: SrfResponse) => void): void;
  options(handler: (req: SrfRequest, res: SrfResponse) => void): void;
  createUAS(req: SrfRequest, res: SrfResponse, opts: { localSdp: string }): Promise<SrfDialog>;
  createUAS(
    req: SrfRequest,
    res: SrfResponse,
    opts: { localSdp: string },
    callback: (error: unknown, dialog: SrfDialog) => void,
  ): void;
  createUAC(
    uri: string,
    opts: {
      localSdp: string;
      auth?: { username: string; password: string };
      headers?: Record<string, string>;
    },
    progress?: {
      cbRequest?: (err: unknown, req: SrfRequest) => void;
      cbProvisional?: (res: unknown) => void;
    },
  ): Promise<SrfDialog>;
  request(uri: string, opts: object, cb: (err: Error | null, req: SrfRequest) => void): void;
}

/** Connects a new srf app to the engine; `configure` registers handlers first. */
export async function connectSrf(
  engine: SipEngineProcess,
  configure: (srf: SrfApp) => void = () => {},
): Promise<SrfApp> {
  const srf = new Srf() as unknown as SrfApp;
  srf.on('error', () => {});
  configure(srf);
  const connected = once(srf, 'connect');
  srf.connect({
    host: '127.0.0.1',
    port: engine.adminPort,
    secret: engine.secret,
    reconnect: { maxAttempts: 1 },
  });
  const [err] = (await connected) as [Error | null];
  if (err) throw err;
  return srf;
}

/** Resolves once the engine has `n` apps routed... approximated by reading its app count. */
export async function waitForApps(engine: SipEngineProcess, n: number): Promise<void> {
  const c = await engine.waitForCounts((x) => (x.apps ?? 0) >= n, 5000);
  if ((c.apps ?? 0) < n) throw new Error('apps did not connect');
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Parsed from -trace_stat's final line when available. */
  successful?: number;
  failed?: number;
}

/**
 * Runs sipp to completion with raw arguments, for the benchmark (tests use test/support/sipp.ts).
 * Every run gets -nostdin, -i 127.0.0.1 and an overall timeout; call counts are read from the final
 * screen sipp prints on exit.
 */
export function runSipp(args: string[], timeoutS = 90, signal?: AbortSignal): Promise<SippResult> {
  const child = spawn(
    'sipp',
    [...args, '-nostdin', '-i', '127.0.0.1', '-timeout', `${timeoutS}s`, '-timeout_error'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(signal !== undefined ? { signal } : {}),
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // An aborted run (signal) still resolves, with the exit code null.
  child.on('error', () => {});
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      const result: SippResult = { code, stdout, stderr };
      const ok = /Successful call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(stdout);
      const bad = /Failed call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(stdout);
      if (ok?.[1]) result.successful = Number(ok[1]);
      if (bad?.[1]) result.failed = Number(bad[1]);
      resolve(result);
    }),
  );
}

/** An srf UAS answering every INVITE with LOCAL_SDP; counts dialogs and their endings. */
export function uasApp(stats: EventEmitter & { answered?: number; ended?: number }) {
  stats.answered = 0;
  stats.ended = 0;
  return (srf: SrfApp): void =>
    srf.invite((req, res) => {
      srf.createUAS(req, res, { localSdp: LOCAL_SDP }).then(
        (dialog) => {
          stats.answered = (stats.answered ?? 0) + 1;
          stats.emit('dialog', dialog);
          dialog.on('destroy', () => {
            stats.ended = (stats.ended ?? 0) + 1;
            stats.emit('ended', dialog);
          });
        },
        (err: unknown) => stats.emit('failed', err),
      );
    });
}

export const nextEvent = <T extends unknown[]>(emitter: EventEmitter, event: string): Promise<T> =>
  once(emitter, event) as Promise<T>;
