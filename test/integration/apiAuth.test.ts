import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

let running: RunningGateway;

beforeAll(async () => {
  running = await startInProcessGateway();
  // A configured app, so GET would be 200 for a key that is allowed.
  await fetch(`${running.url}/v1/organization/apps/${TEST_APP_ID}/calling`, {
    method: 'PUT',
    headers: bearer(KEYS.admin),
    body: '{}',
  });
});
afterAll(async () => {
  await running.stop();
});

const callingPath = `/v1/organization/apps/${TEST_APP_ID}/calling`;

const endpoints = [
  { name: 'GET calling config', method: 'GET', path: callingPath },
  { name: 'PUT calling config', method: 'PUT', path: callingPath, body: '{}' },
  { name: 'GET /metrics', method: 'GET', path: '/metrics' },
  { name: 'GET /openapi.json', method: 'GET', path: '/openapi.json' },
] as const;

async function call(
  endpoint: (typeof endpoints)[number],
  headers: Record<string, string>,
): Promise<Response> {
  return fetch(`${running.url}${endpoint.path}`, {
    method: endpoint.method,
    headers,
    ...('body' in endpoint ? { body: endpoint.body } : {}),
  });
}

describe('API keys', () => {
  const missing: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['an unknown key', bearer('sk_admin_0000000000000000000000000000nope')],
    ['a key with a wrong scheme', { authorization: `Basic ${KEYS.admin}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['a key with a suffix', bearer(`${KEYS.admin}x`)],
  ];
  for (const endpoint of endpoints) {
    it.each(missing)(`${endpoint.name}: %s → 401`, async (_what, headers) => {
      const response = await call(endpoint, headers);
      expect(response.status).toBe(401);
      expect(((await response.json()) as any).error.code).toBe('unauthorized');
    });
  }

  const matrix: [string, keyof typeof KEYS, number][] = [
    ['GET calling config', 'admin', 200],
    ['GET calling config', 'app', 403],
    ['GET calling config', 'otherApp', 403],
    ['GET calling config', 'metrics', 403],
    ['PUT calling config', 'admin', 200],
    ['PUT calling config', 'app', 403],
    ['PUT calling config', 'metrics', 403],
    ['GET /metrics', 'admin', 200],
    ['GET /metrics', 'metrics', 200],
    ['GET /metrics', 'app', 403],
    ['GET /openapi.json', 'admin', 200],
    ['GET /openapi.json', 'app', 200],
    ['GET /openapi.json', 'metrics', 200],
  ];
  it.each(matrix)('%s with the %s key → %d', async (name, key, expected) => {
    const endpoint = endpoints.find((e) => e.name === name);
    if (!endpoint) throw new Error(name);
    const response = await call(endpoint, bearer(KEYS[key]));
    expect(response.status).toBe(expected);
    if (expected === 403) expect(((await response.json()) as any).error.code).toBe('forbidden');
  });

  it('a refused PUT changes nothing', async () => {
    await fetch(`${running.url}${callingPath}`, {
      method: 'PUT',
      headers: bearer(KEYS.app),
      body: '{"maxConcurrentCalls": 7}',
    });
    const stored = (await (
      await fetch(`${running.url}${callingPath}`, { headers: bearer(KEYS.admin) })
    ).json()) as any;
    expect(stored.maxConcurrentCalls).toBe(100);
  });

  it('health endpoints need no key', async () => {
    const health = await fetch(`${running.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await health.json()) as any).toEqual({ status: 'ok' });
    const ready = await fetch(`${running.url}/readyz`);
    expect([200, 503]).toContain(ready.status);
  });

  it('unknown routes answer a JSON 404', async () => {
    const response = await fetch(`${running.url}/v1/nothing`, { headers: bearer(KEYS.admin) });
    expect(response.status).toBe(404);
    expect(((await response.json()) as any).error.code).toBe('not_found');
  });
});
