import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayProcess } from '../support/gatewayProcess.js';
import { AUTH_KEYS, bearer, KEYS } from '../support/testKeys.js';

let dir: string;
let configFile: string;
const running: GatewayProcess[] = [];

function start(env: Record<string, string> = {}): GatewayProcess {
  const gateway = new GatewayProcess(['--config', configFile], env);
  running.push(gateway);
  return gateway;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-process-'));
  configFile = join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      http: { port: 0 },
      log: { level: 'info', format: 'json' },
      store: { path: join(dir, 'gateway.db') },
      auth: { keys: AUTH_KEYS },
    }),
  );
});

afterEach(async () => {
  for (const gateway of running.splice(0)) {
    gateway.kill('SIGKILL');
    await gateway.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const appIds = Array.from({ length: 20 }, (_, i) => `app_${String(i).padStart(27, 'P')}`);

async function putConfig(url: string, appId: string, body: object): Promise<Response> {
  return fetch(`${url}/v1/organization/apps/${appId}/calling`, {
    method: 'PUT',
    headers: bearer(KEYS.admin),
    body: JSON.stringify(body),
  });
}

describe('the gateway process', () => {
  it('keeps every acknowledged write across kill -9 and a restart', async () => {
    const first = start();
    const url = await first.ready();
    const written = new Map<string, unknown>();
    await Promise.all(
      appIds.map(async (appId, i) => {
        const response = await putConfig(url, appId, {
          maxConcurrentCalls: i + 1,
          voicemailEnabled: i % 2 === 0,
        });
        expect(response.status).toBe(200);
        written.set(appId, await response.json());
      }),
    );
    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = start();
    const url2 = await second.ready();
    for (const appId of appIds) {
      const response = await fetch(`${url2}/v1/organization/apps/${appId}/calling`, {
        headers: bearer(KEYS.admin),
      });
      expect(response.status).toBe(200);
      expect((await response.json()) as any).toEqual(written.get(appId));
    }
  });

  it('on SIGTERM finishes the request in flight, closes storage cleanly and exits 0', async () => {
    const gateway = start();
    const url = new URL(await gateway.ready());
    const appId = appIds[0] as string;
    const body = JSON.stringify({ maxConcurrentCalls: 77 });

    // Expect: 100-continue makes the server say when it holds the request, so the signal
    // provably lands while the request is in flight.
    const req = request({
      host: url.hostname,
      port: url.port,
      method: 'PUT',
      path: `/v1/organization/apps/${appId}/calling`,
      headers: { ...bearer(KEYS.admin), 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    const responded = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
    });
    await new Promise<void>((resolve) => req.on('continue', () => resolve()));
    gateway.kill('SIGTERM');
    await gateway.waitForLog('shutting down');
    req.end(body);

    const { status, text } = await responded;
    expect(status).toBe(200);
    expect(JSON.parse(text).maxConcurrentCalls).toBe(77);
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    await gateway.waitForLog('gateway stopped');
    // A clean close checkpoints the write-ahead log into the database file.
    const wal = join(dir, 'gateway.db-wal');
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);

    const again = start();
    const url2 = await again.ready();
    const stored = (await (
      await fetch(`${url2}/v1/organization/apps/${appId}/calling`, { headers: bearer(KEYS.admin) })
    ).json()) as any;
    expect(stored.maxConcurrentCalls).toBe(77);
  });

  it('refuses to start on a bad setting, with one line naming the key, exit code 2', async () => {
    const gateway = start({ GATEWAY_HTTP__PORT: 'eighty' });
    expect((await gateway.exited).code).toBe(2);
    expect(gateway.stderr.trim().split('\n')).toEqual([
      'config error: http.port: Invalid input: expected number, received string, got "eighty"',
    ]);
  });

  it('refuses to start when the config file does not exist', async () => {
    const gateway = new GatewayProcess(['--config', join(dir, 'missing.yaml')]);
    running.push(gateway);
    expect((await gateway.exited).code).toBe(2);
    expect(gateway.stderr).toMatch(/^config error: cannot read config file .*missing\.yaml: ENOENT\n$/);
  });

  it('never logs API keys or secrets', async () => {
    const gateway = start();
    const url = await gateway.ready();
    await putConfig(url, appIds[1] as string, {});
    await fetch(`${url}/metrics`, { headers: bearer('sk_admin_not_a_real_key_but_long_enough_xx') });
    gateway.kill('SIGTERM');
    await gateway.exited;
    const log = JSON.stringify(gateway.lines);
    expect(log).toContain('"route":"/v1/organization/apps/:appId/calling"');
    for (const key of [...Object.values(KEYS), 'sk_admin_not_a_real_key', 'secret-for-local-development']) {
      expect(log).not.toContain(key);
    }
  });
});
