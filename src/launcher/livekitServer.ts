import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freeTcpPort, freeUdpPort } from './freePorts.js';
import { stopChild } from './stopChild.js';

/** The release the project is tested against; `.ci/run` installs the same one. */
export const LIVEKIT_SERVER_MODULE = 'github.com/livekit/livekit-server/cmd/server@v1.13.5';

export interface LiveKitServerOptions {
  apiKey: string;
  /** livekit-server refuses secrets shorter than 32 characters. */
  apiSecret: string;
  /** 0 (default) picks free ports. */
  port?: number;
  rtcTcpPort?: number;
  rtcUdpPort?: number;
  /** Where livekit-server's own log goes; by default it is kept and shown only if start-up fails. */
  onLog?: (line: string) => void;
  startTimeoutMs?: number;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function goBinDir(): string | undefined {
  try {
    const gobin = execFileSync('go', ['env', 'GOBIN'], { encoding: 'utf8' }).trim();
    if (gobin) return gobin;
    return join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim(), 'bin');
  } catch {
    return undefined;
  }
}

/**
 * Finds the livekit-server binary: LIVEKIT_SERVER_BIN, `livekit-server` on PATH, or the `server`
 * binary `go install …/cmd/server` leaves in Go's bin folder.
 */
export function findLiveKitServerBinary(): string | undefined {
  const fromEnv = process.env.LIVEKIT_SERVER_BIN;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  const named = onPath('livekit-server');
  if (named) return named;
  const goBin = goBinDir();
  const built = goBin ? join(goBin, 'server') : undefined;
  return built && existsSync(built) ? built : undefined;
}

/** Installs the pinned livekit-server with the Go toolchain (minutes on first run) and returns its path. */
export function installLiveKitServer(log: (line: string) => void): string {
  log(`installing livekit-server: go install ${LIVEKIT_SERVER_MODULE}`);
  execFileSync('go', ['install', LIVEKIT_SERVER_MODULE], { stdio: 'inherit' });
  const binary = findLiveKitServerBinary();
  if (!binary) throw new Error('go install finished but the livekit-server binary was not found');
  return binary;
}

/** The config that works on a machine with only loopback traffic (no STUN, no external IP). */
function configYaml(
  options: Required<Pick<LiveKitServerOptions, 'apiKey' | 'apiSecret'>>,
  ports: Ports,
): string {
  return [
    `port: ${ports.http}`,
    'bind_addresses: [127.0.0.1]',
    'rtc:',
    `  tcp_port: ${ports.rtcTcp}`,
    `  udp_port: ${ports.rtcUdp}`,
    '  node_ip: 127.0.0.1',
    '  use_external_ip: false',
    '  enable_loopback_candidate: true',
    'keys:',
    `  ${options.apiKey}: ${options.apiSecret}`,
    'logging:',
    '  level: info',
    '  json: true',
    '',
  ].join('\n');
}

interface Ports {
  http: number;
  rtcTcp: number;
  rtcUdp: number;
}

/** A livekit-server child process on loopback, started and stopped by the caller. */
export class LiveKitServer {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  private ports: Ports | undefined;

  constructor(
    private readonly binary: string,
    private readonly options: LiveKitServerOptions,
  ) {}

  get url(): string {
    if (!this.ports) throw new Error('livekit-server is not started');
    return `ws://127.0.0.1:${this.ports.http}`;
  }

  get httpUrl(): string {
    return this.url.replace(/^ws:/, 'http:');
  }

  /**
   * Starts on the configured ports, or on free ones. A free port can be taken by another process
   * between the pick and livekit-server's bind (parallel tests pick ports too), so a start that
   * fails on a taken port is tried again with fresh ports.
   */
  async start(): Promise<void> {
    const fixed = Boolean(this.options.port && this.options.rtcTcpPort && this.options.rtcUdpPort);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (error) {
        const taken = /address already in use/.test((error as Error).message);
        if (fixed || !taken || attempt >= 3) throw error;
      }
    }
  }

  private async startOnce(): Promise<void> {
    this.ports = {
      http: this.options.port || (await freeTcpPort()),
      rtcTcp: this.options.rtcTcpPort || (await freeTcpPort()),
      rtcUdp: this.options.rtcUdpPort || (await freeUdpPort()),
    };
    this.dir = mkdtempSync(join(tmpdir(), 'livekit-'));
    const configPath = join(this.dir, 'livekit.yaml');
    writeFileSync(configPath, configYaml(this.options, this.ports));
    const child = spawn(this.binary, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const output: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        if (this.options.onLog) this.options.onLog(line);
        else if (output.length < 200) output.push(line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    try {
      await this.waitUntilServing(child, this.options.startTimeoutMs ?? 30_000);
    } catch (error) {
      await this.stop();
      throw new Error(`${(error as Error).message}\n${output.join('\n')}`);
    }
  }

  /** Polls the HTTP root, which answers once the server accepts connections (or fails on exit). */
  private async waitUntilServing(child: ChildProcess, timeoutMs: number): Promise<void> {
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      exited = `livekit-server exited during start-up (code ${code}, signal ${signal})`;
    });
    const deadline = Date.now() + timeoutMs;
    let delay = 25;
    while (Date.now() < deadline) {
      if (exited) throw new Error(exited);
      try {
        const response = await fetch(this.httpUrl, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 250);
    }
    throw new Error(`livekit-server did not answer on ${this.httpUrl} within ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopChild(child, 5000);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
