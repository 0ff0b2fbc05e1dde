/**
 * A real drachtio-server (C++) as a child process, for the tests that prove a behaviour on it as
 * well as on the embedded engine. Opt-in: drachtio-server is not in Debian, so these tests run
 * only where DRACHTIO_SERVER_BIN names a built `drachtio` binary.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, freeUdpPort } from '../../src/launcher/freePorts.js';
import type { SipEngineProcess } from './sipEngineProcess.js';

export const DRACHTIO_SERVER_BIN = process.env.DRACHTIO_SERVER_BIN;

/** The parts of a SIP server process the tests that use either kind need. */
export type SipServerProcess = Pick<SipEngineProcess, 'sipPort' | 'adminPort' | 'secret' | 'stop' | 'kill'>;

async function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startDrachtioServer(
  binary: string,
  options: { ports?: { sipPort: number; adminPort: number } } = {},
): Promise<SipServerProcess> {
  const sipPort = options.ports?.sipPort ?? (await freeUdpPort());
  const adminPort = options.ports?.adminPort ?? (await freeTcpPort());
  const secret = randomBytes(12).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'drachtio-server-'));
  const configFile = join(dir, 'drachtio.conf.xml');
  // drachtio-server always reads a config file; the command line below overrides what matters.
  writeFileSync(
    configFile,
    `<drachtio><admin port="${adminPort}" secret="${secret}">127.0.0.1</admin>
      <sip><contacts><contact>sip:127.0.0.1:${sipPort};transport=udp,tcp</contact></contacts></sip>
      <logging><console/><sofia-loglevel>3</sofia-loglevel><loglevel>info</loglevel></logging></drachtio>`,
  );
  const child: ChildProcess = spawn(
    binary,
    ['-f', configFile, '--port', String(adminPort), '--address', '127.0.0.1', '--secret', secret, '--stdout'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = once(child, 'exit');
  const deadline = Date.now() + 10_000;
  while (!(await portAccepts(adminPort))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`drachtio-server did not start:\n${output.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    sipPort,
    adminPort,
    secret,
    async stop() {
      await end('SIGTERM');
      return child.exitCode;
    },
    kill: () => end('SIGKILL'),
  };
}
