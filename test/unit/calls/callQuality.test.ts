import pino from 'pino';
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { CallMetrics } from '../../../src/calls/callMetrics.js';
import type { PhaseControl } from '../../../src/calls/callPhases.js';
import {
  CallQualityBook,
  type CallQualityUpdate,
  packetLossRatio,
  qualityFromStats,
} from '../../../src/calls/callQuality.js';
import { CallRegistry } from '../../../src/calls/callRegistry.js';
import { CallService } from '../../../src/calls/callService.js';
import { CallStore } from '../../../src/calls/callStore.js';
import type { Call } from '../../../src/calls/callTypes.js';
import { MediaSession } from '../../../src/media/workers/MediaSession.js';
import type { SessionStats } from '../../../src/media/workers/mediaChannelTypes.js';
import type { SessionTransport } from '../../../src/media/workers/mediaSessionTypes.js';
import { Database } from '../../../src/store/database.js';
import { storeOnlyEvents } from '../../support/storeOnlyEvents.js';

/**
 * A call's leg quality: the loss ratio and figures made from a media session's stats, followed
 * per call (its own leg's session only), shown on the live call, kept on it as it ends (the last
 * figures with the end, the final ones once its media closed), and observed once into the
 * per-call histograms.
 */
const logger = pino({ level: 'silent' });
const APP = 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X';
const AT = new Date('2025-01-02T03:04:05.000Z');

function stats(fields: Partial<SessionStats> = {}): SessionStats {
  return {
    packetsReceived: 900,
    packetsSent: 1000,
    bytesReceived: 900 * 172,
    bytesSent: 1000 * 172,
    packetsExpected: 1000,
    packetsLost: 100,
    jitterMs: 3.25,
    roundTripMs: null,
    mos: 3.1,
    ...fields,
  };
}

describe('packetLossRatio and qualityFromStats', () => {
  it('is lost over expected, 0–1 to four decimals, and null while nothing was expected', () => {
    expect(packetLossRatio(0, 0)).toBeNull();
    expect(packetLossRatio(5, 0)).toBeNull();
    expect(packetLossRatio(0, 250)).toBe(0);
    expect(packetLossRatio(100, 1000)).toBe(0.1);
    expect(packetLossRatio(1, 3)).toBe(0.3333);
    // Duplicates make RFC 3550's cumulative loss negative: no loss, not a gain.
    expect(packetLossRatio(-4, 100)).toBe(0);
    expect(packetLossRatio(120, 100)).toBe(1);
  });

  it('makes a quality of a session’s stats, or none before its first packet', () => {
    expect(
      qualityFromStats(stats({ packetsExpected: 0, packetsLost: 0, packetsReceived: 0 }), AT),
    ).toBeNull();
    expect(qualityFromStats(stats({ roundTripMs: 41.5 }), AT)).toEqual({
      packetLossRatio: 0.1,
      packetsReceived: 900,
      packetsLost: 100,
      jitterMs: 3.25,
      roundTripMs: 41.5,
      mos: 3.1,
      updatedAt: AT.toISOString(),
    });
    expect(qualityFromStats(stats({ packetsLost: -2 }), AT)?.packetsLost).toBe(0);
  });
});

describe('CallQualityBook with the call layer', () => {
  let clock: Date;
  let store: CallStore;
  let book: CallQualityBook;
  let calls: CallService;
  let registry: CallRegistry;
  let metrics: Registry;
  let updates: CallQualityUpdate[];

  beforeEach(() => {
    clock = AT;
    const db = new Database({ path: ':memory:', synchronous: 'full', logger });
    store = new CallStore(db);
    const now = () => clock;
    book = new CallQualityBook({
      calls: { get: (id) => calls.get(id), keepQuality: (id, quality) => calls.keepQuality(id, quality) },
      logger,
      now,
    });
    calls = new CallService({ store, events: storeOnlyEvents(db), logger, now, quality: book });
    registry = new CallRegistry(calls, logger, book);
    metrics = new Registry();
    new CallMetrics({
      registry: metrics,
      calls,
      live: () => [],
      phases: () => registry.countByPhase(),
      workers: () => [],
      quality: book,
    });
    updates = [];
    book.on('quality', (update) => updates.push(update));
  });

  /** A call in progress. */
  function newCall(direction: 'inbound' | 'outbound' = 'inbound'): Call {
    const call = calls.create({
      appId: APP,
      direction,
      fromAddress: '+15550100',
      toAddress: '+15550199',
      fromChannel: direction === 'inbound' ? 'whatsapp' : 'webrtc',
      toChannel: direction === 'inbound' ? 'webrtc' : 'pstn',
    });
    calls.transition(call.id, { to: 'ringing' });
    calls.transition(call.id, { to: 'in_progress' });
    return call;
  }

  const control: PhaseControl = { hangup: () => undefined, shutdown: () => Promise.resolve() };

  /** A media session whose worker answers closeSession with `closing` as its final stats. */
  function session(id: string, closing: SessionStats | null): MediaSession {
    const transport: SessionTransport = {
      request: (async (method: string) =>
        method === 'closeSession' ? { closed: true, stats: closing } : {}) as SessionTransport['request'],
    };
    return new MediaSession(id, 0, transport);
  }

  function report(media: MediaSession, fields: Partial<SessionStats>): void {
    media.handleEvent({ type: 'event', event: 'stats', data: { sessionId: media.id, stats: stats(fields) } });
  }

  /** `series` of the metrics registry (e.g. `gateway_call_mos_count{channel="pstn",...}`), 0 if absent. */
  async function metric(series: string): Promise<number> {
    const line = (await metrics.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  }

  it('shows the live figures of the call’s own leg, not of another session, and none before RTP', async () => {
    const call = newCall();
    const live = registry.open(call);
    const own = session('ms_own', null);
    const bridged = session('ms_bridged', null);
    live.answered(control, own);
    expect(calls.get(call.id)?.quality).toBeNull();
    report(own, { packetsExpected: 0, packetsLost: 0, packetsReceived: 0, mos: null });
    expect(calls.get(call.id)?.quality).toBeNull();
    expect(updates).toEqual([]);

    report(own, { packetsExpected: 100, packetsLost: 2, packetsReceived: 98 });
    report(bridged, { packetsExpected: 100, packetsLost: 50, packetsReceived: 50 });
    clock = new Date(AT.getTime() + 2000);
    report(own, { packetsExpected: 200, packetsLost: 20, packetsReceived: 180, jitterMs: 7.5 });
    const shown = calls.get(call.id)?.quality;
    expect(shown).toMatchObject({ packetLossRatio: 0.1, packetsLost: 20, jitterMs: 7.5 });
    expect(shown?.updatedAt).toBe('2025-01-02T03:04:07.000Z');
    expect(calls.withLiveState((await store.get(call.id)) as Call).quality).toEqual(shown);
    // Live figures are the book's: nothing is written to the call for them.
    expect((await store.get(call.id))?.quality).toBeNull();
    expect(updates.map((u) => [u.callId, u.appId, u.quality.packetLossRatio, u.final])).toEqual([
      [call.id, APP, 0.02, false],
      [call.id, APP, 0.1, false],
    ]);
  });

  it('keeps the last figures with the end, then the final ones, observed once in the histograms', async () => {
    const call = newCall();
    const live = registry.open(call);
    const own = session('ms_1', stats({ packetsExpected: 1500, packetsLost: 150, packetsReceived: 1350 }));
    live.answered(control, own);
    report(own, { packetsExpected: 1000, packetsLost: 100, packetsReceived: 900, mos: 3.4 });
    expect(await metric('gateway_call_mos_count{channel="whatsapp",direction="inbound"}')).toBe(0);

    const ended = live.end({ to: 'completed', endReason: 'caller_hangup' });
    // The end's event carries the figures known then.
    expect(ended.ok && ended.call.quality).toMatchObject({
      packetLossRatio: 0.1,
      packetsLost: 100,
      mos: 3.4,
    });
    // The media closes after the end is recorded (BridgedCall owns the close); its final stats follow.
    await own.close('normal');
    const kept = await calls.find(call.id);
    expect(kept?.status).toBe('completed');
    expect(kept?.quality).toMatchObject({ packetLossRatio: 0.1, packetsLost: 150, packetsReceived: 1350 });
    expect((await store.get(call.id))?.quality).toEqual(kept?.quality);
    expect(updates.at(-1)).toMatchObject({ callId: call.id, final: true, quality: { packetsLost: 150 } });
    expect(book.size).toBe(0);

    const labels = '{channel="whatsapp",direction="inbound"}';
    expect(await metric(`gateway_call_mos_count${labels}`)).toBe(1);
    expect(await metric(`gateway_call_mos_sum${labels}`)).toBe(3.1);
    expect(await metric(`gateway_call_packet_loss_ratio_count${labels}`)).toBe(1);
    expect(await metric(`gateway_call_packet_loss_ratio_sum${labels}`)).toBe(0.1);
    expect(
      await metric(`gateway_call_packet_loss_ratio_bucket{le="0.1",channel="whatsapp",direction="inbound"}`),
    ).toBe(1);
    expect(
      await metric(`gateway_call_packet_loss_ratio_bucket{le="0.05",channel="whatsapp",direction="inbound"}`),
    ).toBe(0);
    expect(await metric(`gateway_call_jitter_seconds_sum${labels}`)).toBeCloseTo(0.00325, 6);
    // Closing again changes nothing, and observes nothing more.
    await own.close('normal');
    expect(await metric(`gateway_call_packet_loss_ratio_count${labels}`)).toBe(1);
  });

  it('ends with the last figures reported when the worker ended the session on its own', async () => {
    const call = newCall('outbound');
    const live = registry.open(call);
    const own = session('ms_2', null);
    live.answered(control, own);
    report(own, { packetsExpected: 400, packetsLost: 0, packetsReceived: 400, mos: null });
    own.handleEvent({
      type: 'event',
      event: 'sessionClosed',
      data: { sessionId: own.id, reason: 'media_timeout', message: 'no RTP for 15 s' },
    });
    // Stored while the call still lives (its end follows the media's): GET shows it all along.
    expect((await store.get(call.id))?.quality).toMatchObject({ packetLossRatio: 0, packetsReceived: 400 });
    const ended = live.end({ to: 'completed', endReason: 'media_timeout' });
    expect(ended.ok && ended.call.quality?.packetsReceived).toBe(400);
    const labels = '{channel="pstn",direction="outbound"}';
    expect(await metric(`gateway_call_packet_loss_ratio_count${labels}`)).toBe(1);
    expect(
      await metric(`gateway_call_packet_loss_ratio_bucket{le="0",channel="pstn",direction="outbound"}`),
    ).toBe(1);
    // No MOS yet (too few packets) is no MOS observation.
    expect(await metric(`gateway_call_mos_count${labels}`)).toBe(0);
  });

  it('leaves a call whose leg received no RTP without quality, and out of the histograms', async () => {
    const call = newCall();
    const live = registry.open(call);
    const own = session('ms_3', stats({ packetsExpected: 0, packetsLost: 0, packetsReceived: 0, mos: null }));
    live.answered(control, own);
    live.end({ to: 'completed', endReason: 'api_hangup' });
    await own.close('normal');
    expect((await calls.find(call.id))?.quality).toBeNull();
    expect(updates).toEqual([]);
    expect(await metric('gateway_call_packet_loss_ratio_count{channel="whatsapp",direction="inbound"}')).toBe(
      0,
    );
  });

  it('shows nothing for a call answered without a media session', () => {
    const call = newCall();
    registry.open(call).answered(control);
    expect(book.size).toBe(0);
    expect(calls.get(call.id)?.quality).toBeNull();
  });
});
