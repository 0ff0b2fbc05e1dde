import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';
import { GatewayProcess } from '../support/gatewayProcess.js';
import { AUTH_KEYS } from '../support/testKeys.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/**
 * Appends `count` events for `callId` with the built outbox (dist/), one transaction each, in a
 * process of its own against the gateway's database file: how events get there while calls do
 * not exist yet. Prints their eventIds as JSON.
 */
const APPEND_SCRIPT = `
import pino from 'pino';
const dist = new URL('dist/src/', 'file://' + process.env.ROOT + '/');
const { Database } = await import(new URL('store/database.js', dist));
const { EventOutbox } = await import(new URL('control/events/eventOutbox.js', dist));
const logger = pino({ level: 'silent' });
const database = new Database({ path: process.env.DB, synchronous: 'full', logger });
const outbox = await new EventOutbox({ database, logger, maxDepth: 1e6, enforceMaxDepth: true }).open();
const callId = process.env.CALL_ID;
const ids = [];
for (let i = 0; i < Number(process.env.COUNT); i++) {
  ids.push(outbox.record({ event: 'calls.dtmf', callId, data: { call: { id: callId }, digit: String(i % 10) } }));
}
await database.close();
process.stdout.write(JSON.stringify(ids));
`;

let dir: string;
let configFile: string;
let plane: ControlPlane;
const processes: GatewayProcess[] = [];

async function appendWithScript(callId: string, count: number): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', APPEND_SCRIPT], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ROOT,
      DB: join(dir, 'gateway.db'),
      CALL_ID: callId,
      COUNT: String(count),
    },
    timeout: 30_000,
  });
  return JSON.parse(stdout) as string[];
}

function startGateway(): GatewayProcess {
  const gateway = new GatewayProcess(['--config', configFile]);
  processes.push(gateway);
  return gateway;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-events-'));
  plane = await ControlPlane.start({ autoAck: false });
  configFile = join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      http: { port: 0 },
      log: { level: 'info', format: 'json' },
      store: { path: join(dir, 'gateway.db') },
      auth: { keys: AUTH_KEYS },
      control: { url: plane.url, token: CONTROL_TOKEN, reconnectMinMs: 20, reconnectMaxMs: 200 },
    }),
  );
});

afterEach(async () => {
  for (const gateway of processes.splice(0)) {
    gateway.kill('SIGKILL');
    await gateway.exited;
  }
  await plane.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the event channel across a gateway crash (events appended by a script with the built outbox; calls do not exist yet)', () => {
  it('delivers after a SIGKILL and restart every event written before the kill, in order, with the same eventIds', async () => {
    const first = startGateway();
    await first.ready();
    await plane.waitForConnection(1);
    const written = await appendWithScript('call_crash_1', 20);
    // The running gateway picks up events another process appended (no in-process notification).
    await plane.waitFor('20 events on connection 1', () => plane.eventsOn(1).length >= 20);
    expect(plane.eventsOn(1).map((e) => e.eventId)).toEqual(written);

    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    // Written while no gateway runs at all.
    const writtenWhileDown = await appendWithScript('call_crash_2', 5);

    plane.autoAck = true;
    const second = startGateway();
    await second.ready();
    await plane.waitFor('25 events on connection 2', () => plane.eventsOn(2).length >= 25);
    const hellos = plane.messagesOfType('hello');
    expect(hellos).toHaveLength(2);
    expect(hellos[1].gatewayId).toBe(hellos[0].gatewayId);
    expect(hellos[1].lastAckedSeq).toBe(0);
    const resent = plane.eventsOn(2);
    expect(resent.map((e) => e.eventId)).toEqual([...written, ...writtenWhileDown]);
    const seqs = resent.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => (seqs[0] as number) + i));
    expect(resent.slice(0, 20).map((e) => e.seq)).toEqual(plane.eventsOn(1).map((e) => e.seq));
  });
});
