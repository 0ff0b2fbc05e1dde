import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { until } from './gatewayApi.js';

const CONFIG = resolve(import.meta.dirname, '../../sip/kamailio/kamailio.cfg');
const KAMAILIO = process.env.KAMAILIO_BIN ?? '/usr/sbin/kamailio';

export interface KamailioProcess {
  port: number;
  /** Everything Kamailio logged so far (its xlog lines among them). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * A real Kamailio (Debian's) with the project's sip/kamailio/kamailio.cfg, listening on a free
 * loopback port, dispatching to `nodes` (host:port of each gateway node's SIP server). Resolves
 * once it answers an OPTIONS of its own.
 */
export async function startKamailio(options: {
  nodes: string[];
  probeIntervalSeconds?: number;
  nodeTimeoutMs?: number;
}): Promise<KamailioProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
  const list = join(dir, 'dispatcher.list');
  writeFileSync(list, options.nodes.map((node) => `1 sip:${node} 0 0\n`).join(''));
  const port = await freeUdpPort();
  const child: ChildProcess = spawn(
    KAMAILIO,
    [
      '-f',
      CONFIG,
      '-DD',
      '-E',
      '-Y',
      dir,
      '-A',
      `LISTEN=udp:127.0.0.1:${port}`,
      '-A',
      `LISTEN_TCP=tcp:127.0.0.1:${port}`,
      '-A',
      `DISPATCHER_LIST="${list}"`,
      '-A',
      `PROBE_INTERVAL=${options.probeIntervalSeconds ?? 1}`,
      '-A',
      `NODE_TIMEOUT_MS=${options.nodeTimeoutMs ?? 1500}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Kamailio has no ready signal of its own: its answer to an OPTIONS is the one that counts.
    await until(() => answersOptions(port), 15_000);
  } catch (error) {
    await stop();
    throw new Error(`kamailio did not come up: ${(error as Error).message}\n${output}`);
  }
  return { port, log: () => output, stop };
}

async function answersOptions(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const local = socket.address().port;
    const request = [
      `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${Math.random().toString(36).slice(2)}`,
      'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.1>;tag=${Math.random().toString(36).slice(2)}`,
      `To: <sip:127.0.0.1:${port}>`,
      `Call-ID: ${Math.random().toString(36).slice(2)}@127.0.0.1`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const answer = new Promise<boolean>((resolveAnswer) => {
      socket.once('message', (message) => resolveAnswer(message.toString().startsWith('SIP/2.0 200')));
      setTimeout(() => resolveAnswer(false), 300);
    });
    socket.send(request, port, '127.0.0.1');
    return await answer;
  } finally {
    socket.close();
  }
}
