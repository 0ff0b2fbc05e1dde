import type { RunningGateway } from './inProcessGateway.js';
import { bearer, KEYS, TEST_APP_ID } from './testKeys.js';

/** A JSON API call to a test gateway with the admin key (or the headers given). */
export async function api(gw: RunningGateway, path: string, init: RequestInit = {}): Promise<any> {
  const response = await fetch(`${gw.url}${path}`, {
    ...init,
    headers: { ...bearer(KEYS.admin), ...init.headers },
  });
  return response.json();
}

/**
 * Polls `condition` with growing pauses until it holds; fails after `deadlineMs`. For state that
 * other processes change (SIP peers, srf reconnects), where there is no event to wait on here.
 */
export async function until(condition: () => Promise<boolean>, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let delay = 10;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 200);
  }
}

/** Polls a call (with the admin key, or `key`) until `done` holds for it, and returns it. */
export async function callWhen(
  gw: RunningGateway,
  id: string,
  done: (call: any) => boolean,
  key: string = KEYS.admin,
): Promise<any> {
  let call: any;
  await until(async () => {
    call = await api(gw, `/v1/calls/${id}`, { headers: bearer(key) });
    return done(call);
  }, 30_000);
  return call;
}

/** POST /v1/calls with an app key (the test app's unless `key`): the status and the body. */
export async function placeCall(
  gw: RunningGateway,
  body: Record<string, unknown>,
  key: string = KEYS.app,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${gw.url}/v1/calls`, {
    method: 'POST',
    headers: bearer(key),
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** The test app's calls, newest first, optionally of one status. */
export async function callsOf(gw: RunningGateway, status?: string): Promise<any[]> {
  return (await api(gw, `/v1/calls?appId=${TEST_APP_ID}&limit=100${status ? `&status=${status}` : ''}`)).data;
}

/** Waits until exactly one call of the test app rings, and returns it. */
export async function theRingingCall(gw: RunningGateway): Promise<any> {
  let ringing: any[] = [];
  await until(async () => {
    ringing = await callsOf(gw, 'ringing');
    return ringing.length === 1;
  });
  return ringing[0];
}

/** The called number the call tests route to the test app. */
export const ROUTED_NUMBER = '+15550199';

/**
 * Config overrides for a gateway that takes calls from 127.0.0.1 through `engine`, routes
 * ROUTED_NUMBER to the test app and bridges into `livekit`; `more` is merged on top.
 */
export function callGatewayConfig(
  engine: { adminPort: number; secret: string },
  livekit: { url: string; apiKey: string; apiSecret: string } | undefined,
  more: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...more,
    sip: {
      drachtio: { host: '127.0.0.1', port: engine.adminPort, secret: engine.secret },
      trunks: [{ name: 'local', kind: 'pstn', sourceAddresses: ['127.0.0.1/32'] }],
      numbers: [{ number: ROUTED_NUMBER, appId: TEST_APP_ID }],
      ...((more.sip as Record<string, unknown> | undefined) ?? {}),
    },
    ...(livekit
      ? { livekit: { url: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret } }
      : {}),
  };
}

/** One series of the gateway's /metrics (e.g. `gateway_calls_live{direction="inbound",status="ringing"}`); 0 if absent. */
export async function metricValue(gw: RunningGateway, series: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`, { headers: bearer(KEYS.metrics) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
