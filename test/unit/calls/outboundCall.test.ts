import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { DialFailed } from '../../../src/calls/callErrors.js';
import { CallRegistry } from '../../../src/calls/callRegistry.js';
import { CallService } from '../../../src/calls/callService.js';
import { CallStore } from '../../../src/calls/callStore.js';
import type { Call } from '../../../src/calls/callTypes.js';
import { OutboundCall } from '../../../src/calls/outbound/outboundCall.js';
import type { DialRequest, OutboundDialer } from '../../../src/calls/outbound/outboundDialer.js';
import { MediaSession } from '../../../src/media/workers/MediaSession.js';
import { SipDialogLeg } from '../../../src/signalling/sipDialogLeg.js';
import { Database } from '../../../src/store/database.js';
import { storeOnlyEvents } from '../../support/storeOnlyEvents.js';

/**
 * An outbound call's life before answer, with a scripted dialer and rooms: one final status on
 * each way out, the room deleted, the live call closed (SIP and media: integration tests).
 */
const logger = pino({ level: 'silent' });
const APP = 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X';
const tick = () => new Promise((resolve) => setImmediate(resolve));

let calls: CallService;
let registry: CallRegistry;
let events: string[];
let deleted: string[];
let roomCreated: () => void;
let roomReady: Promise<void>;
let dials: { request: DialRequest; answer(leg: unknown): void; fail(error: DialFailed): void }[];

const dialer = {
  canDial: () => true,
  dial: (request: DialRequest) =>
    new Promise((resolve, reject) => {
      dials.push({ request, answer: resolve, fail: reject });
      request.signal?.addEventListener('abort', () => reject(new DialFailed('canceled', null, 'given up')));
    }),
} as unknown as OutboundDialer;

beforeEach(() => {
  const db = new Database({ path: ':memory:', synchronous: 'full', logger });
  events = [];
  calls = new CallService({
    store: new CallStore(db),
    events: storeOnlyEvents(db, (event) => void events.push(event.event)),
    logger,
    now: () => new Date(),
  });
  registry = new CallRegistry(calls, logger);
  deleted = [];
  dials = [];
  roomReady = new Promise((resolve) => {
    roomCreated = resolve;
  });
});

function outbound(options: { ringTimeoutMs?: number } = {}): { call: Call; outbound: OutboundCall } {
  const created = calls.create({
    appId: APP,
    direction: 'outbound',
    fromAddress: '+15550100',
    toAddress: '+442071838750',
    fromChannel: 'pstn',
    toChannel: 'pstn',
  });
  const call = { ...created, livekitRoomName: `call-${created.id}` };
  const placed = new OutboundCall(
    call,
    registry.open(call),
    {
      calls,
      dialer,
      rooms: {
        ensureRoom: () => roomReady,
        deleteRoom: async (name) => void deleted.push(name),
      },
      logger,
    },
    { ringTimeoutMs: options.ringTimeoutMs ?? 30_000, maxDurationMs: 3_600_000 },
  );
  placed.start();
  return { call, outbound: placed };
}

describe('OutboundCall', () => {
  it('is the call’s ringing phase from the start; ringing on the first 18x; a refusal ends it once', async () => {
    const { call } = outbound();
    expect(registry.get(call.id)).toBeDefined();
    roomCreated();
    await tick();
    expect(dials[0]?.request).toMatchObject({ roomName: call.livekitRoomName, identity: `sip_${call.id}` });
    dials[0]?.request.onRinging?.();
    dials[0]?.fail(new DialFailed('busy', 486, 'busy'));
    await tick();
    expect(await calls.find(call.id)).toMatchObject({ status: 'busy', endReason: 'busy', sipStatus: 486 });
    expect(events).toEqual(['calls.initiated', 'calls.ringing', 'calls.busy']);
    expect(registry.size).toBe(0);
    expect(deleted).toEqual([call.livekitRoomName]);
  });

  it('hung up while its room is being made: canceled / api_hangup at once, and it never dials', async () => {
    const { call, outbound: placed } = outbound();
    placed.hangup();
    expect(await calls.find(call.id)).toMatchObject({ status: 'canceled', endReason: 'api_hangup' });
    expect(registry.size).toBe(0);
    roomCreated();
    await tick();
    expect(dials).toHaveLength(0);
    expect(events).toEqual(['calls.initiated', 'calls.canceled']);
    // Deleted again once made, in case the first deletion overtook the creation.
    expect(deleted).toEqual([call.livekitRoomName, call.livekitRoomName]);
  });

  it('hung up while ringing: recorded at once, the dial given up, one final event', async () => {
    const { call, outbound: placed } = outbound();
    roomCreated();
    await tick();
    dials[0]?.request.onRinging?.();
    placed.hangup();
    expect(dials[0]?.request.signal?.aborted).toBe(true);
    placed.hangup();
    await tick();
    expect(await calls.find(call.id)).toMatchObject({
      status: 'canceled',
      endReason: 'api_hangup',
      sipStatus: null,
    });
    expect(events).toEqual(['calls.initiated', 'calls.ringing', 'calls.canceled']);
    expect(deleted).toEqual([call.livekitRoomName]);
  });

  it('a gateway stop fails a ringing call with gateway_shutdown and resolves once the dial let go', async () => {
    const { call, outbound: placed } = outbound();
    roomCreated();
    await tick();
    await placed.shutdown();
    expect(await calls.find(call.id)).toMatchObject({ status: 'failed', endReason: 'gateway_shutdown' });
    expect(registry.size).toBe(0);
  });

  it('a callee who hangs up before the bridge listens (still joining the room) ends it callee_hangup', async () => {
    const { call } = outbound();
    roomCreated();
    await tick();
    const session = new MediaSession('ms_1', 0, {
      request: async () => ({ closed: true, stats: null }) as never,
    });
    let byes = 0;
    dials[0]?.answer({
      session,
      trunk: 'carrier',
      sipCallId: 'sip-1',
      leg: new SipDialogLeg(
        { id: 'd', connected: false, on: () => undefined, destroy: () => void byes++ },
        logger,
      ),
    });
    await tick();
    expect(await calls.find(call.id)).toMatchObject({ status: 'completed', endReason: 'callee_hangup' });
    expect(events).toEqual(['calls.initiated', 'calls.answered', 'calls.completed']);
    expect(byes).toBe(0);
    expect(session.closed).toBe(true);
    expect(registry.size).toBe(0);
  });

  it('a room livekit-server will not make fails the call: media_error', async () => {
    roomReady = Promise.reject(new Error('livekit-server unreachable'));
    const { call } = outbound();
    await tick();
    expect(await calls.find(call.id)).toMatchObject({ status: 'failed', endReason: 'media_error' });
    expect(dials).toHaveLength(0);
  });
});
