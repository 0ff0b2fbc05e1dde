import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

describe('metrics', () => {
  let running: RunningGateway;
  beforeAll(async () => {
    running = await startInProcessGateway();
  });
  afterAll(async () => {
    await running.stop();
  });

  it('serves process, event-loop and HTTP metrics in Prometheus text format', async () => {
    await fetch(`${running.url}/v1/organization/apps/${TEST_APP_ID}/calling`, {
      headers: bearer(KEYS.admin),
    });
    await fetch(`${running.url}/v1/organization/apps/${TEST_APP_ID}/calling`, {
      headers: bearer(KEYS.admin),
    });
    const response = await fetch(`${running.url}/metrics`, { headers: bearer(KEYS.metrics) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    // Route templates, not raw URLs: one series however many apps there are.
    expect(text).toContain(
      'gateway_http_requests_total{method="GET",route="/v1/organization/apps/:appId/calling",status="404"} 2',
    );
    expect(text).toMatch(
      /^gateway_http_request_duration_seconds_count\{method="GET",route="\/v1\/organization\/apps\/:appId\/calling",status="404"\} 2$/m,
    );
    expect(text).not.toContain(TEST_APP_ID);
    // Every metric of ours carries the prefix.
    const ours = text.match(/^# TYPE (\S+)/gm)?.map((line) => line.slice(7)) ?? [];
    for (const name of ours) {
      expect(
        name.startsWith('gateway_') || name.startsWith('process_') || name.startsWith('nodejs_'),
        name,
      ).toBe(true);
    }
  });
});

describe('openapi.json', () => {
  let running: RunningGateway;
  beforeAll(async () => {
    running = await startInProcessGateway();
  });
  afterAll(async () => {
    await running.stop();
  });

  it('describes every route with the schemas that validate requests', async () => {
    const doc = (await (
      await fetch(`${running.url}/openapi.json`, { headers: bearer(KEYS.app) })
    ).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    const calling = doc.paths['/v1/organization/apps/{appId}/calling'];
    expect(Object.keys(calling).sort()).toEqual(['get', 'put']);
    expect(calling.put.parameters[0]).toMatchObject({ name: 'appId', in: 'path', required: true });
    expect(calling.put.parameters[0].schema.pattern).toBe('^app_(test_)?[0-9A-Za-z]{27}$');
    expect(calling.put.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/CallingConfigUpdate',
    );
    const update = doc.components.schemas.CallingConfigUpdate;
    expect(update.additionalProperties).toBe(false);
    expect(update.properties.voicemailMaxDuration).toMatchObject({
      minimum: 10,
      maximum: 600,
      type: 'integer',
    });
    expect(update.properties.maxConcurrentCalls).toMatchObject({ minimum: 1, maximum: 10000 });
    expect(update.properties.recordingFormat.enum).toEqual(['mp4', 'ogg', 'webm']);
    expect(doc.components.schemas.CallingConfig.required).toContain('organizationId');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/console',
        '/console/app.js',
        '/console/console.css',
        '/healthz',
        '/metrics',
        '/openapi.json',
        '/readyz',
        '/v1/calls',
        '/v1/calls/{id}',
        '/v1/calls/{id}/actions',
        '/v1/calls/{id}/log',
        '/v1/calls/{id}/tokens',
        '/v1/calls/stream',
        '/v1/console/links',
        '/v1/console/sessions',
        '/v1/console/sessions/current',
        '/v1/events/schema',
        '/v1/organization/apps/{appId}/calling',
        '/v1/organization/apps/{appId}/sip',
        '/v1/recordings',
        '/v1/recordings/{id}',
        '/v1/recordings/{id}/media',
        '/v1/sip/numbers',
        '/v1/sip/numbers/{number}',
        '/v1/sip/trunks',
        '/v1/sip/trunks/{name}',
        '/v1/sip/trunks/{name}/registration',
        '/v1/whatsapp/webhook',
      ].sort(),
    );
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    // A console link's code is its own credential: opening a session needs no key.
    expect(doc.paths['/v1/console/sessions'].post.security).toEqual([]);
    expect(doc.paths['/v1/console/links'].post.security).not.toEqual([]);
  });
});

describe('readiness', () => {
  it('names livekit as the failing part while livekit-server is unreachable', async () => {
    const running = await startInProcessGateway({ livekit: { url: 'ws://127.0.0.1:9' } });
    try {
      const response = await fetch(`${running.url}/readyz`);
      expect(response.status).toBe(503);
      const report = (await response.json()) as any;
      expect(report.parts.storage).toEqual({ ok: true });
      expect(report.parts.livekit.ok).toBe(false);
      expect(report.parts.livekit.detail).toContain('ws://127.0.0.1:9');
    } finally {
      await running.stop();
    }
  });

  describe('with a real livekit-server', () => {
    let rig: LiveKitRig;
    beforeAll(async () => {
      rig = await startLiveKit();
    });
    afterAll(async () => {
      await rig.server.stop();
    });

    it('reports storage and livekit as up, and names the part that stops answering', async () => {
      const running = await startInProcessGateway({
        livekit: { url: rig.url, apiKey: rig.apiKey, apiSecret: rig.apiSecret },
      });
      try {
        const ready = (await (await fetch(`${running.url}/readyz`)).json()) as any;
        expect(ready.parts.storage).toEqual({ ok: true });
        expect(ready.parts.livekit).toEqual({ ok: true });

        await running.gateway.database.close();
        const notReady = await fetch(`${running.url}/readyz`);
        expect(notReady.status).toBe(503);
        expect(((await notReady.json()) as any).parts.storage.ok).toBe(false);
      } finally {
        await running.stop();
      }
    });

    it('reports livekit as failing when the keys are wrong', async () => {
      const running = await startInProcessGateway({
        livekit: { url: rig.url, apiKey: rig.apiKey, apiSecret: 'x'.repeat(40) },
      });
      try {
        const response = await fetch(`${running.url}/readyz`);
        expect(response.status).toBe(503);
        expect(((await response.json()) as any).parts.livekit.ok).toBe(false);
      } finally {
        await running.stop();
      }
    });
  });
});
