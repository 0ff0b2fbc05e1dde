import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { type ChromiumWithMicrophone, chromiumWithMicrophone } from '../support/chromium.js';
import { api, callGatewayConfig, ROUTED_NUMBER, theRingingCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { RtpPeer } from '../support/rtpPeer.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp, startSippServer } from '../support/sipp.js';
import { bearer, KEYS, OTHER_APP_ID, TEST_APP_ID } from '../support/testKeys.js';
import { analyseTone } from '../support/tone.js';

/**
 * The agent console in a real Chromium (its fake microphone plays a tone): a phone caller (sipp
 * with the test's RTP peer playing another tone) rings, the page shows it, the test clicks
 * Answer, and each side hears the other's tone; the keypad reaches the phone as RFC 4733, Hang up
 * ends the call. Screenshots of each state go to dist/test-output/console.
 */
const BROWSER_TONE_HZ = 700;
const CALLER_TONE_HZ = 1000;
const SCREENSHOTS = join(process.cwd(), 'dist', 'test-output', 'console');

let engine: SipEngineProcess;
let rig: LiveKitRig;
let gw: RunningGateway;
let chromium: ChromiumWithMicrophone;
let sippPort: number;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  engine = await startSipEngine();
  rig = await startLiveKit();
  sippPort = await freeUdpPort();
  // The app's calls to the PSTN go to a sipp callee on this port.
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      sip: {
        trunks: [
          {
            name: 'local',
            kind: 'pstn',
            sourceAddresses: ['127.0.0.1/32'],
            outbound: { host: '127.0.0.1', port: sippPort, transport: 'udp' },
          },
        ],
        apps: [{ appId: TEST_APP_ID, outboundTrunk: 'local' }],
      },
    }),
    { mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY) },
  );
  await until(async () => (await api(gw, '/readyz')).ready === true);
  chromium = await chromiumWithMicrophone(BROWSER_TONE_HZ);
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(async () => {
  await chromium?.close();
  await gw?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

describe('the agent console', () => {
  it('shows a ringing call, answers it, talks both ways, sends DTMF, hangs up and plays its recording', async () => {
    const { page } = chromium;
    await api(gw, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
      method: 'PUT',
      body: JSON.stringify({ autoRecordEnabled: true, recordingFormat: 'webm' }),
    });
    await page.setViewportSize({ width: 1280, height: 720 });
    const response = await page.goto(`${gw.url}/console`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.fill('#api-key', KEYS.app);
    await page.click('#sign-in-form button[type=submit]');
    await page.locator('#feed-state', { hasText: 'Live' }).waitFor();

    const peer = await RtpPeer.open('PCMU', { latch: true });
    cleanup.push(() => peer.close());
    peer.start({ frequencyHz: CALLER_TONE_HZ, amplitude: 0.3 });
    const sipp = runSipp({
      scenario: 'uac-rtp-peer',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      keys: { rtpport: peer.port },
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const ringing = await theRingingCall(gw);
    const row = page.locator(`tr[data-call="${ringing.id}"][data-status="ringing"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('+15550100');
    await page.screenshot({ path: join(SCREENSHOTS, '1-ringing.png') });

    // By keyboard alone, as an agent with no mouse: Tab reaches Answer, Enter presses it.
    let focused = '';
    for (let presses = 0; presses < 40 && focused !== 'answer'; presses++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(
        () => ((globalThis as any).document.activeElement?.dataset?.action as string | undefined) ?? '',
      );
    }
    expect(focused).toBe('answer');
    await page.keyboard.press('Enter');
    // Functions, not strings: the page's CSP forbids eval, and that includes a test's.
    await page.waitForFunction(() => (globalThis as any).consoleAudio !== undefined);
    await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).status === 'in_progress');
    await page.locator(`tr[data-call="${ringing.id}"][data-status="in_progress"]`).waitFor();

    // The phone hears the browser's microphone; the page hears the phone.
    const atPhone = analyseTone(await peer.recordAudible({ durationMs: 600, settleMs: 200 }), 8000);
    expect(Math.abs(atPhone.frequencyHz - BROWSER_TONE_HZ)).toBeLessThanOrEqual(10);
    const atPage: { frequencyHz: number; levelDbfs: number } = await page.evaluate(() =>
      (globalThis as any).consoleAudio.heard(1000),
    );
    expect(Math.abs(atPage.frequencyHz - CALLER_TONE_HZ)).toBeLessThanOrEqual(10);
    expect(atPage.levelDbfs).toBeGreaterThan(-40);
    // Who is in the room (the agent), and the phone leg's quality, pushed by the feed.
    const live = page.locator(`tr[data-call="${ringing.id}"]`);
    await page.waitForFunction(
      (id) =>
        (globalThis as any).document
          .querySelector(`tr[data-call="${id}"]`)
          ?.textContent?.includes('agent-') === true,
      ringing.id,
    );
    await page.locator('#active-quality', { hasText: 'packet loss 0.0 %' }).waitFor();
    expect(await live.textContent()).toMatch(/MOS \d\.\d · 0\.0 % loss/);
    await page.screenshot({ path: join(SCREENSHOTS, '2-on-the-call.png') });

    const digit = peer.nextDigit();
    await page.click('#keypad button[data-digit="5"]');
    expect(await digit).toBe('5');

    await page.click('#hang-up');
    assertAllCallsSucceeded(await sipp, 1);
    await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).status === 'completed');
    expect(await api(gw, `/v1/calls/${ringing.id}`)).toMatchObject({ endReason: 'api_hangup' });
    const ended = page.locator(`tr[data-call="${ringing.id}"][data-status="completed"]`);
    await ended.waitFor();
    expect(await ended.textContent()).toContain('api_hangup');
    expect(await page.isHidden('#active')).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, '3-ended.png') });

    // The whole call was recorded: it shows once the file is finished, and plays in the page.
    const recorded = page.locator('#recording-rows tr[data-state="completed"]');
    await recorded.waitFor();
    expect(await recorded.count()).toBe(1);
    await recorded.locator('button[data-action="play"]').click();
    await page.waitForFunction(() => {
      const player = (globalThis as any).document.getElementById('player');
      return player !== null && !player.paused && player.currentTime > 0.3 && player.duration > 1;
    });
    await page.screenshot({ path: join(SCREENSHOTS, '4-recording-playing.png') });
    // Deleting it asks first, then it is gone from the page and from the API.
    page.once('dialog', (dialog) => void dialog.accept());
    await recorded.locator('button[data-action="delete"]').click();
    await page.locator('#recordings-status', { hasText: 'No recordings yet.' }).waitFor();
    expect((await api(gw, `/v1/recordings?callId=${ringing.id}`)).data).toEqual([]);
    expect(await page.isHidden('#player')).toBe(true);

    // On a phone-sized screen the list still fits: nothing runs off to the side.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, '5-phone.png'), fullPage: true });
    expect(
      await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number),
    ).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 720 });

    // The key lived in sessionStorage only: not in the URL, a cookie or localStorage.
    expect(page.url()).not.toContain(KEYS.app);
    expect(await page.context().cookies()).toEqual([]);
    expect(await page.evaluate(() => (globalThis as any).localStorage.length)).toBe(0);
  });

  it('places a call to a phone number: the callee answers, the page hears it, Hang up ends it', async () => {
    const { page } = chromium;
    const callee = await startSippServer({
      scenario: 'uas-answer-pcap',
      localPort: sippPort,
      transport: 'u1',
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    cleanup.push(() => callee.stop({ graceful: false }));
    await page.fill('#place-to', '+442071838750');
    await page.fill('#place-from', '+15550100');
    await page.selectOption('#place-channel', 'pstn');
    await page.click('#place-form button[type=submit]');
    const row = page.locator('#call-rows tr[data-status="in_progress"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('+442071838750');
    const callId = await row.getAttribute('data-call');
    // The page joined the call's room and hears the callee (sipp's recorded speech).
    await page.waitForFunction(() => (globalThis as any).consoleAudio !== undefined);
    const heard: { levelDbfs: number } = await page.evaluate(() =>
      (globalThis as any).consoleAudio.heard(1500),
    );
    expect(heard.levelDbfs).toBeGreaterThan(-45);
    await page.screenshot({ path: join(SCREENSHOTS, '6-placed-call.png') });
    await page.click('#hang-up');
    assertAllCallsSucceeded(await callee.exited, 1);
    await until(async () => (await api(gw, `/v1/calls/${callId}`)).status === 'completed');
    expect(await api(gw, `/v1/calls/${callId}`)).toMatchObject({
      endReason: 'api_hangup',
      direction: 'outbound',
    });
  });

  it('opens from a one-time console link: signed in as its app, the code gone from the URL, good once', async () => {
    const post = (path: string, key: string | null, body: unknown) =>
      fetch(`${gw.url}${path}`, {
        method: 'POST',
        headers: { ...(key ? bearer(key) : {}), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // Who may make links: an admin for any app, an app for itself only; not a scraper, not anyone.
    expect((await post('/v1/console/links', null, {})).status).toBe(401);
    expect((await post('/v1/console/links', KEYS.metrics, {})).status).toBe(403);
    expect((await post('/v1/console/links', KEYS.app, { appId: OTHER_APP_ID })).status).toBe(403);
    const made = await post('/v1/console/links', KEYS.admin, { appId: OTHER_APP_ID });
    expect(made.status).toBe(201);
    const link = (await made.json()) as { code: string; url: string; expiresAt: string };
    expect(link.url).toBe(`/console#code=${link.code}`);

    const page = await chromium.browser.newPage();
    cleanup.push(() => page.close());
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.goto(`${gw.url}${link.url}`);
    await page.locator('#feed-state', { hasText: 'Live' }).waitFor();
    expect(page.url()).toBe(`${gw.url}/console`);
    const token = await page.evaluate(
      () => (globalThis as any).sessionStorage.getItem('gateway.console.apiKey') as string | null,
    );
    expect(token).toMatch(/^cs_/);
    // The other app's session sees none of the first test's calls, which an admin sees.
    const mine = (await (await fetch(`${gw.url}/v1/calls`, { headers: bearer(token ?? '') })).json()) as {
      data: unknown[];
    };
    expect(mine.data).toEqual([]);
    expect((await api(gw, '/v1/calls')).data.length).toBeGreaterThan(0);

    // Used once: the same link again, from another tab, signs nobody in.
    expect((await post('/v1/console/sessions', null, { code: link.code })).status).toBe(401);
    const again = await chromium.browser.newPage();
    cleanup.push(() => again.close());
    await again.goto(`${gw.url}${link.url}`);
    await again.locator('#sign-in-error', { hasText: 'already used' }).waitFor();
    expect(await again.isVisible('#sign-in')).toBe(true);

    // Signing out ends the session on the server: the token no longer opens anything.
    await page.click('#sign-out');
    await until(
      async () => (await fetch(`${gw.url}/v1/calls`, { headers: bearer(token ?? '') })).status === 401,
    );
  });

  it('refuses the call feed a wrong key, and shows an app only its own calls', async () => {
    const wrong = await fetch(`${gw.url}/v1/calls/stream`, { headers: bearer('sk_live_app_wrong') });
    expect(wrong.status).toBe(401);
    const other = await fetch(`${gw.url}/v1/calls/stream`, { headers: bearer(KEYS.otherApp) });
    expect(other.status).toBe(200);
    const reader = other.body?.getReader();
    const first = new TextDecoder().decode((await reader?.read())?.value);
    await reader?.cancel();
    expect(first).toMatch(/^event: snapshot\ndata: /);
    expect(JSON.parse(first.split('data: ')[1] ?? '{}')).toEqual({ data: [] });
  });
});
