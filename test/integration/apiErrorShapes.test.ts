import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiKeyRing } from '../../src/control/auth/apiKeys.js';
import { createHttpServer } from '../../src/control/httpServer.js';
import { defineRoute } from '../../src/control/routeSpec.js';
import { Metrics } from '../../src/observability/metricsRegistry.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { AUTH_KEYS, KEYS } from '../support/testKeys.js';
import { head, RawConnection, type RawResponse, rawRequest } from './rawHttp.js';

let running: RunningGateway;

beforeAll(async () => {
  running = await startInProcessGateway();
});
afterAll(async () => {
  await running.stop();
});

/** The one error shape of the API: `{error: {code, message}}`, served as JSON. */
function expectApiError(response: RawResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.json).toEqual({
    error: expect.objectContaining({ code, message: expect.any(String) }),
  });
}

const get = (path: string, ...headers: string[]) =>
  rawRequest(
    running.url,
    head(`GET ${path} HTTP/1.1`, 'Host: gateway', `Authorization: Bearer ${KEYS.admin}`, ...headers),
  );

describe('URLs fastify cannot route', () => {
  it('a malformed percent-encoding is a 400 naming url', async () => {
    const response = await get('/v1/calls/%E0%A4%A');
    expectApiError(response, 400, 'invalid_request');
    expect(response.json.error.details).toEqual([
      { field: 'url', message: 'has a malformed percent-encoding' },
    ]);
  });

  it('a 10,000-character id is a 414', async () => {
    expectApiError(await get(`/v1/calls/call_${'a'.repeat(10_000)}`), 414, 'uri_too_long');
  });

  it('an id of a plausible length but the wrong form is still a 400 naming id', async () => {
    const response = await get(`/v1/calls/call_${'a'.repeat(90)}`);
    expectApiError(response, 400, 'invalid_request');
    expect(response.json.error.details[0].field).toBe('id');
  });
});

describe('methods a path does not answer', () => {
  it.each([
    ['DELETE', '/v1/calls', 'GET, HEAD, POST'],
    ['PUT', '/v1/calls/call_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X0000', 'GET, HEAD, PATCH'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['DELETE', '/v1/organization/apps/app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X/calling', 'GET, HEAD, PUT'],
  ])('%s %s is a 405 allowing %s', async (method, path, allow) => {
    const response = await rawRequest(
      running.url,
      head(`${method} ${path} HTTP/1.1`, 'Host: gateway', 'Content-Length: 0'),
    );
    expectApiError(response, 405, 'method_not_allowed');
    expect(response.headers.allow).toBe(allow);
  });

  it('an unknown path is still a 404', async () => {
    expectApiError(await get('/v1/nothing'), 404, 'not_found');
  });
});

describe('malformed HTTP, answered by Node before fastify sees a request', () => {
  it('both Content-Length and Transfer-Encoding is a 400, and the connection is closed', async () => {
    const response = await rawRequest(
      running.url,
      `${head(
        'POST /v1/calls HTTP/1.1',
        'Host: gateway',
        'Content-Length: 2',
        'Transfer-Encoding: chunked',
      )}2\r\n{}\r\n0\r\n\r\n`,
    );
    expectApiError(response, 400, 'malformed_request');
    expect(response.headers.connection).toBe('close');
  });

  it('a request line that is not HTTP is a 400', async () => {
    const response = await rawRequest(running.url, 'HELLO THERE\r\n\r\n');
    expectApiError(response, 400, 'malformed_request');
  });

  it('headers over the size limit are a 431', async () => {
    expectApiError(await get('/healthz', `X-Filler: ${'x'.repeat(20_000)}`), 431, 'headers_too_large');
  });

  it('an Expect other than 100-continue is a 417', async () => {
    expectApiError(await get('/healthz', 'Expect: something-else'), 417, 'expectation_failed');
  });
});

describe('bodies', () => {
  it('a body over http.bodyLimitBytes is a 413', async () => {
    const body = JSON.stringify({ note: 'x'.repeat(1_100_000) });
    const response = await rawRequest(
      running.url,
      head(
        'POST /v1/calls HTTP/1.1',
        'Host: gateway',
        `Authorization: Bearer ${KEYS.app}`,
        `Content-Length: ${body.length}`,
      ) + body,
    );
    expectApiError(response, 413, 'body_too_large');
  });
});

describe('a server shutting down', () => {
  it('turns away a request that arrives on an open connection with a 503 in the API shape', async () => {
    let release = (): void => {};
    let arrived = (): void => {};
    const slowArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const slow = defineRoute({
      method: 'GET',
      url: '/slow',
      operationId: 'slow',
      summary: 'answers when released',
      tag: 'test',
      access: 'public',
      responses: { 200: { description: 'ok', schema: z.object({}) } },
      handler: () =>
        new Promise((resolve) => {
          release = () => resolve({});
          arrived();
        }),
    });
    const app: FastifyInstance = createHttpServer({
      logger: pino({ level: 'silent' }),
      keys: new ApiKeyRing(AUTH_KEYS as never),
      metrics: new Metrics(),
      routes: [slow],
      version: '0.0.0-test',
      bodyLimitBytes: 1024,
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    // Two pipelined requests: the second is read only after the first is answered, by then closing.
    const busy = new RawConnection(url);
    busy.send(head('GET /slow HTTP/1.1', 'Host: gateway'));
    await slowArrived;
    // A second connection has begun its request (so close() does not count it idle) when close starts.
    const late = new RawConnection(url);
    late.send('GET /slow HTTP/1.1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = app.close();
    late.send('Host: gateway\r\n\r\n');
    const [turnedAway] = await late.responses(1);
    if (!turnedAway) throw new Error('no answer');
    expectApiError(turnedAway, 503, 'shutting_down');
    release();
    const [first] = await busy.responses(1);
    expect(first?.status).toBe(200);
    await closed;
  });
});
