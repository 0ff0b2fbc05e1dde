import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { TrunkConfig } from '../../../src/config/sipSchema.js';
import { DigestAuthenticator } from '../../../src/signalling/inbound/digestAuth.js';
import { InboundInvites } from '../../../src/signalling/inbound/inboundInvites.js';
import { NumberRouter } from '../../../src/signalling/inbound/numberRouter.js';
import type { SipIncomingLeg } from '../../../src/signalling/inbound/sipIncomingLeg.js';
import { TrunkMatcher } from '../../../src/signalling/inbound/trunkMatcher.js';
import type { CreateUas } from '../../../src/signalling/srfAdapters.js';
import type { InboundRequest, InboundResponse } from '../../../src/signalling/srfTypes.js';
import { WhatsAppNumbers } from '../../../src/signalling/whatsappNumbers.js';

/**
 * Session timers where INVITEs come in (RFC 4028 9): a PSTN trunk's INVITE below our Min-SE is
 * refused 422 with Min-SE before any call is offered; one within it is offered and answered with
 * Session-Expires and Require: timer; a WhatsApp trunk's INVITE never gets timers. Real SIP:
 * test/integration/sessionTimers.test.ts.
 */
const trunk = (name: string, kind: 'pstn' | 'whatsapp', source: string): TrunkConfig => ({
  name,
  kind,
  sourceAddresses: [source],
  inboundAuth: null,
  outbound: null,
  registration: null,
  media: { encryption: 'none', policy: 'required' },
});
const APP = `app_${'a'.repeat(27)}`;

function invites(createUas: CreateUas, offered: SipIncomingLeg[]) {
  return new InboundInvites({
    trunks: new TrunkMatcher([
      trunk('carrier', 'pstn', '203.0.113.5'),
      trunk('meta', 'whatsapp', '198.51.100.5'),
    ]),
    numbers: new NumberRouter([{ number: '+15550100', appId: APP }]),
    whatsapp: new WhatsAppNumbers([
      {
        number: '+15550111',
        appId: APP,
        trunk: 'meta',
        sipHostname: 'sip.example.com',
        password: 'secret',
        keying: 'dtls',
      },
    ]),
    digest: new DigestAuthenticator(),
    calls: { offer: async (leg) => offered.push(leg) },
    createUas,
    sessionTimers: { expiresSeconds: 1800, minSeSeconds: 90 },
    logger: pino({ level: 'silent' }),
  });
}

function invite(source: string, number: string, headers: Record<string, string>): InboundRequest {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: 'INVITE',
    uri: `sip:${number}@gw.example.com`,
    stackTxnId: 'txn',
    source_address: source,
    source_port: 5060,
    protocol: source === '198.51.100.5' ? 'tls' : 'udp',
    body: '',
    get: (name: string) => lower[name.toLowerCase()],
    on: () => undefined,
  };
}

function response() {
  const sent: { status: number; headers?: Record<string, string> | undefined }[] = [];
  const res: InboundResponse = {
    finalResponseSent: false,
    send: (status, _reason, options) => sent.push({ status, headers: options?.headers }),
  };
  return { res, sent };
}

/** Answers the offered leg and returns the headers its 200 OK was given. */
async function answerHeaders(leg: SipIncomingLeg | undefined, uas: ReturnType<typeof vi.fn>) {
  expect(leg).toBeDefined();
  void leg?.answer('sdp').catch(() => undefined);
  await vi.waitFor(() => expect(uas).toHaveBeenCalled());
  return uas.mock.calls[0]?.[4] as Record<string, string> | undefined;
}

describe('session timers on incoming INVITEs', () => {
  it('refuses a PSTN INVITE below our Min-SE with 422 and Min-SE, offering no call', () => {
    const offered: SipIncomingLeg[] = [];
    const { res, sent } = response();
    invites(vi.fn(), offered).handle(
      invite('203.0.113.5', '+15550100', { 'Session-Expires': '60', Supported: 'timer' }),
      res,
    );
    expect(offered).toEqual([]);
    expect(sent).toEqual([{ status: 422, headers: expect.objectContaining({ 'Min-SE': '90' }) }]);
  });

  it('answers a PSTN caller that supports timers with its interval, refresher uac and Require: timer', async () => {
    const offered: SipIncomingLeg[] = [];
    const uas = vi.fn();
    invites(uas as CreateUas, offered).handle(
      invite('203.0.113.5', '+15550100', { 'Session-Expires': '600', Supported: 'timer, 100rel' }),
      response().res,
    );
    expect(await answerHeaders(offered[0], uas)).toEqual({
      'Session-Expires': '600;refresher=uac',
      Require: 'timer',
    });
  });

  it('never runs timers toward WhatsApp, whatever the INVITE asks', async () => {
    const offered: SipIncomingLeg[] = [];
    const uas = vi.fn();
    const { res, sent } = response();
    invites(uas as CreateUas, offered).handle(
      invite('198.51.100.5', '+15550111', { 'Session-Expires': '30', Supported: 'timer' }),
      res,
    );
    expect(sent).toEqual([]);
    expect(await answerHeaders(offered[0], uas)).toBeUndefined();
  });
});
