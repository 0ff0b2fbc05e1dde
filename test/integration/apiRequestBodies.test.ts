import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_DEPTH } from '../../src/control/jsonBody.js';
import { METADATA_MAX_DEPTH } from '../../src/control/schemas/callCreateSchemas.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';
import { head, rawRequest } from './rawHttp.js';

let running: RunningGateway;

beforeAll(async () => {
  running = await startInProcessGateway();
});
afterAll(async () => {
  await running.stop();
});

/** `{"a":{"a":…1…}}`, `depth` objects deep. */
function nestedObjects(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{"a":1}${'}'.repeat(depth - 1)}`;
}

/** A headers-only request announcing a megabyte of body that is never sent. */
function announcing(method: string, path: string, ...headers: string[]): string {
  return head(
    `${method} ${path} HTTP/1.1`,
    'Host: gateway',
    'Content-Type: application/json',
    'Content-Length: 1048576',
    ...headers,
  );
}

async function send(
  method: string,
  path: string,
  body: string,
  key?: string,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${running.url}${path}`, {
    method,
    headers: key ? bearer(key) : {},
    body,
  });
  return { status: response.status, json: await response.json() };
}

describe('the key is checked before the body is read', () => {
  it('answers 401 to a request without a key while its announced body has not arrived', async () => {
    const response = await rawRequest(running.url, announcing('POST', '/v1/calls'));
    expect(response.status).toBe(401);
    expect(response.json.error.code).toBe('unauthorized');
  });

  it('answers 403 to a key that may not use the route, body unread', async () => {
    const response = await rawRequest(
      running.url,
      announcing('PUT', `/v1/organization/apps/${TEST_APP_ID}/calling`, `Authorization: Bearer ${KEYS.app}`),
    );
    expect(response.status).toBe(403);
    expect(response.json.error.code).toBe('forbidden');
  });

  it('answers 404 to a path no route declares without reading the body', async () => {
    const response = await rawRequest(running.url, announcing('POST', '/v1/nothing'));
    expect(response.status).toBe(404);
    expect(response.json.error.code).toBe('not_found');
  });

  it('answers 405 to a method the path does not answer without reading the body', async () => {
    const response = await rawRequest(running.url, announcing('DELETE', '/v1/calls'));
    expect(response.status).toBe(405);
    expect(response.json.error.code).toBe('method_not_allowed');
  });

  it('still reads the body of a request with the right key', async () => {
    // The same announced body with an admin key: the server waits for it, so no answer comes.
    await expect(
      rawRequest(
        running.url,
        announcing(
          'PUT',
          `/v1/organization/apps/${TEST_APP_ID}/calling`,
          `Authorization: Bearer ${KEYS.admin}`,
        ),
        500,
      ),
    ).rejects.toThrow(/0 of 1 responses/);
  });
});

describe('body nesting', () => {
  const calling = `/v1/organization/apps/${TEST_APP_ID}/calling`;

  it(`takes a body nested ${MAX_BODY_DEPTH} deep to validation, and refuses one level more naming body`, async () => {
    const atLimit = await send('PUT', calling, nestedObjects(MAX_BODY_DEPTH), KEYS.admin);
    expect(atLimit.status).toBe(400);
    expect(atLimit.json.error.details).toEqual([{ field: 'a', message: 'unknown field' }]);

    const beyond = await send('PUT', calling, nestedObjects(MAX_BODY_DEPTH + 1), KEYS.admin);
    expect(beyond.status).toBe(400);
    expect(beyond.json.error.code).toBe('invalid_request');
    expect(beyond.json.error.details.map((d: any) => d.field)).toEqual(['body', 'a']);
  });

  it('refuses a megabyte of nested arrays with a key, quickly, naming body', async () => {
    const started = performance.now();
    const { status, json } = await send(
      'PUT',
      calling,
      '['.repeat(500_000) + ']'.repeat(500_000),
      KEYS.admin,
    );
    expect(status).toBe(400);
    expect(json.error.details).toEqual([
      { field: 'body', message: `is nested deeper than ${MAX_BODY_DEPTH} levels` },
    ]);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('POST /v1/calls metadata nesting', () => {
  const call = (metadata: string) =>
    send(
      'POST',
      '/v1/calls',
      `{"from":"+15550100","to":"alice","toChannel":"webrtc","metadata":${metadata}}`,
      KEYS.app,
    );

  it(`accepts metadata nested ${METADATA_MAX_DEPTH} deep and returns it as given`, async () => {
    const metadata = nestedObjects(METADATA_MAX_DEPTH);
    const { status, json } = await call(metadata);
    expect(status).toBe(201);
    expect(json.metadata).toEqual(JSON.parse(metadata));
  });

  it(`refuses metadata one level deeper (still within the body's ${MAX_BODY_DEPTH}) naming metadata`, async () => {
    const { status, json } = await call(nestedObjects(METADATA_MAX_DEPTH + 1));
    expect(status).toBe(400);
    expect(json.error.details).toEqual([
      { field: 'metadata', message: `nested at most ${METADATA_MAX_DEPTH} levels deep` },
    ]);
  });

  it('refuses metadata nested 10,000 deep with a 400 naming metadata, not a 500', async () => {
    const { status, json } = await call(nestedObjects(10_000));
    expect(status).toBe(400);
    expect(json.error.details.map((d: any) => d.field)).toContain('metadata');
  });
});
