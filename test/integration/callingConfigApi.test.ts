import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { bearer, KEYS } from '../support/testKeys.js';

let running: RunningGateway;
let appCounter = 0;
let appId: string;

/** A fresh, valid app id per test, so tests do not see each other's configuration. */
function freshAppId(): string {
  appCounter += 1;
  return `app_${String(appCounter).padStart(27, 'A')}`;
}

async function put(body: unknown, id = appId, raw = false): Promise<{ status: number; json: any }> {
  const response = await fetch(`${running.url}/v1/organization/apps/${id}/calling`, {
    method: 'PUT',
    headers: { ...bearer(KEYS.admin), 'content-type': 'application/json' },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function get(id = appId): Promise<{ status: number; json: any }> {
  const response = await fetch(`${running.url}/v1/organization/apps/${id}/calling`, {
    headers: bearer(KEYS.admin),
  });
  return { status: response.status, json: await response.json() };
}

function fieldsNamed(json: any): string[] {
  return (json.error?.details ?? []).map((d: { field: string }) => d.field);
}

beforeAll(async () => {
  running = await startInProcessGateway();
});
afterAll(async () => {
  await running.stop();
});
beforeEach(() => {
  appId = freshAppId();
});

describe('PUT /v1/organization/apps/{appId}/calling', () => {
  it('creates the configuration from the defaults, with the fields given', async () => {
    const { status, json } = await put({ voicemailEnabled: true, maxConcurrentCalls: 5 });
    expect(status).toBe(200);
    expect(json).toEqual({
      id: expect.stringMatching(/^cc_[0-9A-Za-z]{27}$/),
      appId,
      organizationId: 'org_default',
      voicemailEnabled: true,
      voicemailGreetingUrl: null,
      voicemailMaxDuration: 120,
      autoRecordEnabled: false,
      recordingFormat: 'mp4',
      defaultAnswerBehavior: 'webhook',
      maxConcurrentCalls: 5,
      whatsappCallingEnabled: false,
      whatsappSipEnabled: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(new Date(json.createdAt).toISOString()).toBe(json.createdAt);
    expect(json.updatedAt).toBe(json.createdAt);
  });

  it('updates only the fields given and keeps id and createdAt', async () => {
    const first = (await put({ voicemailEnabled: true, recordingFormat: 'ogg' })).json;
    await new Promise((resolve) => setTimeout(resolve, 5)); // let the clock move so updatedAt can differ
    const { status, json } = await put({
      maxConcurrentCalls: 42,
      voicemailGreetingUrl: 'https://cdn.example.com/g.mp3',
    });
    expect(status).toBe(200);
    expect(json.id).toBe(first.id);
    expect(json.createdAt).toBe(first.createdAt);
    expect(Date.parse(json.updatedAt)).toBeGreaterThan(Date.parse(first.updatedAt));
    expect(json).toMatchObject({
      voicemailEnabled: true,
      recordingFormat: 'ogg',
      maxConcurrentCalls: 42,
      voicemailGreetingUrl: 'https://cdn.example.com/g.mp3',
    });
    expect((await get()).json).toEqual(json);
  });

  it('accepts an empty object (the defaults) and every boundary value', async () => {
    expect((await put({})).status).toBe(200);
    for (const body of [
      { voicemailMaxDuration: 10, maxConcurrentCalls: 1 },
      { voicemailMaxDuration: 600, maxConcurrentCalls: 10000 },
      { recordingFormat: 'webm', defaultAnswerBehavior: 'voicemail' },
      { voicemailGreetingUrl: 'http://10.0.0.5:8080/greeting.wav' },
      { voicemailGreetingUrl: null },
      { whatsappCallingEnabled: true, whatsappSipEnabled: true },
    ]) {
      const { status, json } = await put(body);
      expect(status, JSON.stringify(json)).toBe(200);
      expect(json).toMatchObject(body);
    }
  });

  it.each([
    ['voicemailEnabled', 'yes'],
    ['voicemailEnabled', 1],
    ['voicemailEnabled', null],
    ['voicemailGreetingUrl', 'not a url'],
    ['voicemailGreetingUrl', 'ftp://example.com/g.wav'],
    ['voicemailGreetingUrl', '/relative/g.wav'],
    ['voicemailGreetingUrl', 42],
    ['voicemailMaxDuration', 9],
    ['voicemailMaxDuration', 601],
    ['voicemailMaxDuration', 30.5],
    ['voicemailMaxDuration', '30'],
    ['autoRecordEnabled', 'true'],
    ['recordingFormat', 'mp3'],
    ['recordingFormat', 'MP4'],
    ['defaultAnswerBehavior', 'ivr'],
    ['maxConcurrentCalls', 0],
    ['maxConcurrentCalls', 10001],
    ['maxConcurrentCalls', 1.5],
    ['maxConcurrentCalls', -1],
    ['whatsappCallingEnabled', 'on'],
    ['whatsappSipEnabled', 0],
  ])('rejects %s = %j with 400 naming the field, and stores nothing', async (field, value) => {
    const { status, json } = await put({ [field]: value });
    expect(status).toBe(400);
    expect(json.error.code).toBe('invalid_request');
    expect(fieldsNamed(json)).toEqual([field]);
    expect((await get()).status).toBe(404);
  });

  it('rejects unknown fields by name', async () => {
    const { status, json } = await put({ voicemailEnabled: true, voicemailEnable: true, extra: 1 });
    expect(status).toBe(400);
    expect(fieldsNamed(json).sort()).toEqual(['extra', 'voicemailEnable']);
  });

  it('names every bad field at once', async () => {
    const { json } = await put({ maxConcurrentCalls: 0, recordingFormat: 'wav' });
    expect(fieldsNamed(json).sort()).toEqual(['maxConcurrentCalls', 'recordingFormat']);
  });

  it('requires whatsappCallingEnabled for whatsappSipEnabled, also against stored values', async () => {
    const alone = await put({ whatsappSipEnabled: true });
    expect(alone.status).toBe(400);
    expect(fieldsNamed(alone.json)).toEqual(['whatsappSipEnabled']);

    expect((await put({ whatsappCallingEnabled: true })).status).toBe(200);
    expect((await put({ whatsappSipEnabled: true })).json.whatsappSipEnabled).toBe(true);

    const turnOff = await put({ whatsappCallingEnabled: false });
    expect(turnOff.status).toBe(400);
    expect(fieldsNamed(turnOff.json)).toEqual(['whatsappSipEnabled']);
    expect((await get()).json).toMatchObject({ whatsappCallingEnabled: true, whatsappSipEnabled: true });
    expect((await put({ whatsappCallingEnabled: false, whatsappSipEnabled: false })).status).toBe(200);
  });

  it.each([
    ['not JSON', '{"voicemailEnabled": tru'],
    ['a JSON array', '[]'],
    ['a JSON string', '"hello"'],
    ['empty', ''],
  ])('rejects a body that is %s with 400 naming body', async (_what, body) => {
    const { status, json } = await put(body, appId, true);
    expect(status).toBe(400);
    expect(fieldsNamed(json)).toEqual(['body']);
  });

  it('reads a body sent without a JSON content type', async () => {
    const response = await fetch(`${running.url}/v1/organization/apps/${appId}/calling`, {
      method: 'PUT',
      headers: { ...bearer(KEYS.admin), 'content-type': 'text/plain' },
      body: '{"autoRecordEnabled":true}',
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).autoRecordEnabled).toBe(true);
  });

  it.each([
    'app_short',
    'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X9',
    'application_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1',
    'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw-X',
    'app_live_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X',
  ])('rejects the malformed appId %s with 400 naming appId', async (badId) => {
    for (const response of [await put({}, badId), await get(badId)]) {
      expect(response.status).toBe(400);
      expect(fieldsNamed(response.json)).toEqual(['appId']);
    }
  });

  it('accepts test app ids', async () => {
    expect((await put({}, 'app_test_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X')).status).toBe(200);
  });
});

describe('GET /v1/organization/apps/{appId}/calling', () => {
  it('is 404 for an app never configured', async () => {
    const { status, json } = await get();
    expect(status).toBe(404);
    expect(json.error.code).toBe('not_found');
  });

  it('returns what PUT stored', async () => {
    const stored = (await put({ defaultAnswerBehavior: 'voicemail', voicemailEnabled: true })).json;
    expect(await get()).toEqual({ status: 200, json: stored });
  });
});
