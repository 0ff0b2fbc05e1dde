import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { freeTcpPort, freeUdpPort } from '../../src/launcher/freePorts.js';
import { ENGINE_MAIN } from '../support/sipEngineProcess.js';

/** `npm run sip-server` as a user starts it: what its admin port is open to by default. */
function engine(args: string[]) {
  const child = spawn(process.execPath, [ENGINE_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const ready = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"msg":"sip engine ready"')) resolve();
    });
  });
  return { child, exited, ready, stderr: () => stderr };
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the SIP server admin port', () => {
  it('listens on 127.0.0.1 only unless told otherwise', async () => {
    const [sipPort, adminPort] = [await freeUdpPort(), await freeTcpPort()];
    const run = engine([
      '--contact',
      `sip:127.0.0.1:${sipPort}`,
      '--port',
      String(adminPort),
      '--secret',
      'k9',
      '--stdout',
    ]);
    try {
      await run.ready;
      expect(await accepts('127.0.0.1', adminPort)).toBe(true);
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((address) => address && address.family === 'IPv4' && !address.internal);
      // On a machine with an outside address, the admin port must not answer on it.
      if (outside) expect(await accepts(outside.address, adminPort)).toBe(false);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it('refuses to start on a reachable address with the well-known secret, saying why', async () => {
    const run = engine(['--contact', 'sip:127.0.0.1:5060', '--address', '0.0.0.0', '--secret', 'cymru']);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toMatch(
      /--secret cymru is drachtio's well-known example: refusing it on --address 0\.0\.0\.0/,
    );
  });
});
