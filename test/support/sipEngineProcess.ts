/**
 * Starts the built embedded SIP engine (`node dist/sip/engine/main.js`) on free ports with a random
 * secret, for tests that drive it with real peers. Run `npm run build` first (`npm test` does).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freeTcpPort, freeUdpPort } from '../../src/launcher/freePorts.js';

/** The repository root: the nearest directory above this file holding package.json (works from dist/ too). */
function repoRoot(from: string): string {
  let dir = from;
  while (!existsSync(resolve(dir, 'package.json'))) {
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('package.json not found above test/support');
    dir = up;
  }
  return dir;
}

export const ENGINE_MAIN = resolve(repoRoot(import.meta.dirname), 'dist/sip/engine/main.js');

export interface SipEngineProcessOptions {
  /** Transports on the SIP port (default udp and tcp). */
  transports?: Array<'udp' | 'tcp'>;
  /** Adds a TLS listener with this key and certificate (PEM file paths). */
  tls?: { keyFile: string; certFile: string };
  logLevel?: 'info' | 'debug';
  /** Lines the engine printed (JSON), e.g. to show in a failure. */
  onLine?: (line: string) => void;
  /** Options for node itself, before the engine's script (e.g. `--heapsnapshot-signal=SIGUSR2`). */
  nodeOptions?: string[];
  /** The SIP and admin ports of an engine started before, to stand in for it after it died. */
  ports?: { sipPort: number; adminPort: number };
  /** Added to its environment, e.g. NODE_EXTRA_CA_CERTS so its TLS client trusts a test CA. */
  env?: Record<string, string>;
}

export interface SipEngineProcess {
  /** Process id of the engine (benchmarks read its CPU time and RSS from /proc). */
  pid: number;
  sipPort: number;
  tlsPort?: number;
  adminPort: number;
  secret: string;
  metricsUrl: string;
  /** Engine counts, read from /metrics. */
  counts(): Promise<Record<string, number>>;
  /** Polls counts until `done` holds or the deadline passes; resolves with the last counts. */
  waitForCounts(
    done: (c: Record<string, number>) => boolean,
    deadlineMs: number,
  ): Promise<Record<string, number>>;
  /** Output lines so far. */
  lines: string[];
  stop(): Promise<number | null>;
  /** Ends the engine at once (SIGKILL), as a crash would: nothing it holds is ended cleanly. */
  kill(): Promise<void>;
}

/** Free port usable for both UDP and TCP (the engine binds both on the same number). */
async function freeSipPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freeUdpPort();
    const tcp = await new Promise<boolean>((ok) => {
      import('node:net').then(({ createServer }) => {
        const s = createServer();
        s.once('error', () => ok(false));
        s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
      });
    });
    if (tcp) return port;
  }
  throw new Error('no port free for both udp and tcp');
}

function parseMetrics(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    // Labelled series keep their labels in the key: messages_total{direction="in",kind="response",name="100"}.
    const m = /^sip_engine_([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = Number(m[2]);
  }
  return out;
}

export async function startSipEngine(options: SipEngineProcessOptions = {}): Promise<SipEngineProcess> {
  if (!existsSync(ENGINE_MAIN)) throw new Error(`${ENGINE_MAIN} is missing: run npm run build`);
  const transports = options.transports ?? ['udp', 'tcp'];
  const sipPort = options.ports?.sipPort ?? (await freeSipPort());
  const adminPort = options.ports?.adminPort ?? (await freeTcpPort());
  const metricsPort = await freeTcpPort();
  const tlsPort = options.tls ? await freeTcpPort() : undefined;
  const secret = randomBytes(12).toString('hex');
  const args = [
    ...(options.nodeOptions ?? []),
    ENGINE_MAIN,
    '--contact',
    `sip:127.0.0.1:${sipPort};transport=${transports.join(',')}`,
    '--port',
    String(adminPort),
    '--address',
    '127.0.0.1',
    '--secret',
    secret,
    '--loglevel',
    options.logLevel ?? 'info',
    '--stdout',
    '--noconfig',
    '--prometheus-scrape-port',
    `127.0.0.1:${metricsPort}`,
  ];
  if (options.tls && tlsPort !== undefined) {
    args.push(
      '--contact',
      `sips:127.0.0.1:${tlsPort};transport=tls`,
      '--key-file',
      options.tls.keyFile,
      '--cert-file',
      options.tls.certFile,
    );
  }
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  const lines: string[] = [];
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const ready = new Promise<void>((resolveReady, reject) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on('line', (line) => {
      lines.push(line);
      options.onLine?.(line);
      if (line.includes('"msg":"sip engine ready"')) resolveReady();
    });
    child.stderr?.on('data', (d: Buffer) => lines.push(d.toString()));
    void exited.then(([code]) =>
      reject(new Error(`engine exited (${code}) before ready:\n${lines.join('\n')}`)),
    );
  });
  await ready;
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const counts = async (): Promise<Record<string, number>> =>
    parseMetrics(await (await fetch(metricsUrl)).text());
  const engine: SipEngineProcess = {
    pid: child.pid ?? 0,
    sipPort,
    adminPort,
    secret,
    metricsUrl,
    lines,
    counts,
    async waitForCounts(done, deadlineMs) {
      const deadline = Date.now() + deadlineMs;
      let last = await counts();
      while (!done(last) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        last = await counts();
      }
      return last;
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  if (tlsPort !== undefined) engine.tlsPort = tlsPort;
  return engine;
}
