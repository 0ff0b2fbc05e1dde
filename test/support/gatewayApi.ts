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
