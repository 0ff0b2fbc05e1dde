import { describe, expect, it } from 'vitest';
import { graphCallEvents, WebhookPayloadError } from '../../../src/signalling/graph/graphWebhook.js';
import { signatureOf, signingSecret } from '../../../src/signalling/graph/webhookSignature.js';

function body(value: Record<string, unknown>, field = 'calls'): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field, value }] }],
  });
}

describe('Cloud API call webhooks', () => {
  it('reads connect and terminate events with their number, SDP and duration', () => {
    const { events, skipped } = graphCallEvents(
      body({
        metadata: { phone_number_id: '106540352242922' },
        calls: [
          {
            id: 'wacid.A',
            event: 'connect',
            from: '447700900123',
            to: '15550199',
            session: { sdp_type: 'offer', sdp: 'v=0' },
          },
          { id: 'wacid.B', event: 'terminate', status: 'COMPLETED', duration: '42' },
        ],
      }),
    );
    expect(skipped).toEqual([]);
    expect(events).toEqual([
      expect.objectContaining({
        phoneNumberId: '106540352242922',
        wacid: 'wacid.A',
        event: 'connect',
        from: '447700900123',
        session: { type: 'offer', sdp: 'v=0' },
      }),
      expect.objectContaining({
        wacid: 'wacid.B',
        event: 'terminate',
        status: 'COMPLETED',
        durationSeconds: 42,
      }),
    ]);
  });

  it('skips what is not a call event, with the reason, and keeps the rest', () => {
    const { events, skipped } = graphCallEvents(
      body({
        metadata: { phone_number_id: '1' },
        calls: [
          { id: 'wacid.A', event: 'dance' },
          { event: 'connect' },
          { id: 'wacid.C', event: 'terminate' },
        ],
      }),
    );
    expect(events.map((e) => e.wacid)).toEqual(['wacid.C']);
    expect(skipped).toHaveLength(2);
    expect(graphCallEvents(body({ messages: [] }, 'messages'))).toEqual({ events: [], skipped: [] });
    expect(graphCallEvents(body({ calls: [] })).skipped).toEqual([
      'a calls change without metadata.phone_number_id',
    ]);
  });

  it('refuses a body that is not a webhook', () => {
    expect(() => graphCallEvents('not json')).toThrow(WebhookPayloadError);
    expect(() => graphCallEvents('{"entry": 3}')).toThrow(/entry/);
  });
});

describe('X-Hub-Signature-256', () => {
  const raw = body({ metadata: { phone_number_id: '1' }, calls: [] });

  it('names the secret that signed the raw body', () => {
    expect(signingSecret(raw, signatureOf(raw, 'second-secret'), ['first-secret', 'second-secret'])).toBe(
      'second-secret',
    );
    expect(signatureOf(raw, 's')).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('finds none for a missing, malformed, forged or re-serialised body', () => {
    const secrets = ['first-secret'];
    expect(signingSecret(raw, undefined, secrets)).toBeNull();
    expect(signingSecret(raw, 'sha256=zz', secrets)).toBeNull();
    expect(signingSecret(raw, signatureOf(raw, 'other'), secrets)).toBeNull();
    // The same JSON with different whitespace is not what was signed.
    expect(
      signingSecret(JSON.stringify(JSON.parse(raw), null, 1), signatureOf(raw, 'first-secret'), secrets),
    ).toBeNull();
  });
});
