import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from '../../src/launcher/freePorts.js';
import { stopChild } from '../../src/launcher/stopChild.js';
import { callGatewayConfig } from '../../test/support/gatewayApi.js';
import { type LiveKitRig, startLiveKit } from '../../test/support/livekitRig.js';
import { type SipEngineProcess, startSipEngine } from '../../test/support/sipEngineProcess.js';
import { AUTH_KEYS, bearer, KEYS } from '../../test/support/testKeys.js';
import { childrenOf } from './processTree.js';
import { RingingAcceptor } from './ringingAcceptor.js';

export interface BenchStack {
  engine: SipEngineProcess;
  livekit: LiveKitRig;
  gatewayUrl: string;
  acceptor: RingingAcceptor;
  /** The gateway's main process, found among our children by its entry file. */
  gatewayPid: number;
  livekitPid: number;
  /** The gateway's media worker processes right now (a crashed worker is replaced). */
  workerPids(): number[];
  /** A participant token for the call's room, as a browser would get it. */
  token(callId: string, identity: string): Promise<{ url: string; token: string }>;
  stop(): Promise<void>;
}

/** The built gateway, as `npm start` runs it (this file runs from dist/bench/media/). */
const GATEWAY_MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * livekit-server, the embedded SIP server and the built gateway (`dist/src/main.js`), each a real
 * process on free ports, plus the control plane that accepts ringing calls. Everything started
 * here is stopped by `stop()`, also after a failed start.
 */
export async function startBenchStack(options: { workers: number; ringMs: number }): Promise<BenchStack> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };
  try {
    // One after the other: each picks free ports, and two pickers at once can be handed the same one.
    const livekit = await startLiveKit();
    stops.push(() => livekit.server.stop());
    const engine = await startSipEngine({ transports: ['udp'] });
    stops.push(() => engine.stop());
    const acceptor = new RingingAcceptor(options.ringMs);
    stops.push(() => acceptor.close());
    const dir = mkdtempSync(join(tmpdir(), 'media-bench-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'gateway.json');
    const httpPort = await freeTcpPort();
    writeFileSync(
      configFile,
      JSON.stringify(
        callGatewayConfig(engine, livekit, {
          http: { port: httpPort },
          log: { level: 'info', format: 'json' },
          store: { path: join(dir, 'gateway.db') },
          auth: { keys: AUTH_KEYS },
          media: {
            workers: options.workers,
            // The bench drives the machine to saturation on purpose, to find the knee.
            maxCpuUtilization: 1,
            // CPU_PROF_DIR: each media worker writes a V8 CPU profile there when the run ends.
            ...(process.env.CPU_PROF_DIR ? { workerProfileDir: process.env.CPU_PROF_DIR } : {}),
          },
          control: { url: await acceptor.listening(), token: acceptor.token },
        }),
      ),
    );
    // Its log goes to a file, not through a pipe this process would have to read.
    const logFile = join(dir, 'gateway.log');
    const logFd = openSync(logFile, 'w');
    const gateway = spawn(process.execPath, [GATEWAY_MAIN, '--config', configFile], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    stops.push(() => stopChild(gateway, 15_000));
    const gatewayUrl = `http://127.0.0.1:${httpPort}`;
    acceptor.gatewayUrl = gatewayUrl;
    await waitReady(gatewayUrl, () => gateway.exitCode !== null, logFile);
    const gatewayPid = gateway.pid ?? -1;
    const mine = childrenOf(process.pid);
    const livekitPid = mine.find((p) => cmdline(p.pid).includes('livekit.yaml'))?.pid ?? -1;
    return {
      engine,
      livekit,
      gatewayUrl,
      acceptor,
      gatewayPid,
      livekitPid,
      workerPids: () => childrenOf(gatewayPid).map((p) => p.pid),
      token: async (callId, identity) => {
        const response = await fetch(`${gatewayUrl}/v1/calls/${callId}/tokens`, {
          method: 'POST',
          headers: { ...bearer(KEYS.admin), 'content-type': 'application/json' },
          body: JSON.stringify({ identity }),
        });
        if (!response.ok) throw new Error(`token for ${callId}: ${response.status}`);
        return (await response.json()) as { url: string; token: string };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** /readyz turns true once the SIP server connection and a media worker are up. */
async function waitReady(url: string, exited: () => boolean, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const body = (await fetch(`${url}/readyz`)
      .then((r) => r.json())
      .catch(() => ({}))) as { ready?: boolean };
    if (body.ready === true) return;
    if (exited() || Date.now() > deadline) {
      throw new Error(
        `gateway not ready: ${JSON.stringify(body)}\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
