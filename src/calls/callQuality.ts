import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { MediaSession } from '../media/workers/MediaSession.js';
import type { SessionStats } from '../media/workers/mediaChannelTypes.js';
import type { Call, CallQuality } from './callTypes.js';

/** What the quality of a call is labelled with: its app, and for metrics, its far end. */
export type QualityCall = Pick<Call, 'id' | 'appId' | 'direction' | 'fromChannel' | 'toChannel'>;

/** A call's new figures: every few seconds while it lasts, once more with the final ones. */
export interface CallQualityUpdate {
  callId: string;
  appId: string;
  quality: CallQuality;
  /** These are the call's final figures (its leg's media closed). */
  final: boolean;
}

export interface CallQualityEvents {
  quality: [update: CallQualityUpdate];
  /** Once per call whose leg received RTP, when its media closed: the figures it ended with. */
  final: [call: QualityCall, quality: CallQuality];
}

/** The calls quality is kept on: the live call looked up, its final figures stored. */
export interface QualityCalls {
  get(callId: string): QualityCall | undefined;
  keepQuality(callId: string, quality: CallQuality): void;
}

export interface CallQualityDeps {
  calls: QualityCalls;
  logger: Logger;
  now: () => Date;
}

/** What tracking needs of a media session: its stats, and its close. */
export type QualitySource = Pick<MediaSession, 'closed' | 'on'>;

/** packetsLost / packetsExpected, 0–1 to four decimals; null while nothing was expected. */
export function packetLossRatio(lost: number, expected: number): number | null {
  if (!(expected > 0)) return null;
  return Math.round((Math.min(expected, Math.max(0, lost)) / expected) * 10_000) / 10_000;
}

/**
 * A leg's quality from its media session's stats (cumulative since the session began), or null
 * while no RTP came: with nothing received there is nothing to judge.
 */
export function qualityFromStats(stats: SessionStats, at: Date): CallQuality | null {
  const ratio = packetLossRatio(stats.packetsLost, stats.packetsExpected);
  if (ratio === null) return null;
  return {
    packetLossRatio: ratio,
    packetsReceived: stats.packetsReceived,
    packetsLost: Math.max(0, stats.packetsLost),
    jitterMs: stats.jitterMs,
    roundTripMs: stats.roundTripMs,
    mos: stats.mos,
    updatedAt: at.toISOString(),
  };
}

interface Tracked {
  call: QualityCall;
  quality: CallQuality | null;
}

/**
 * The quality of each live call's own leg (the caller's, or an outbound call's callee): the
 * figures its media session reports every few seconds, kept here while the call lives, and
 * its last ones, those its session closed with, written to the call once its media closed.
 * Per call, not per session: another leg a call flow bridges in has a session of its own that
 * is not tracked. `current` is what GET /v1/calls/{id} shows of a live call; the events feed the
 * call stream (`quality`) and the per-call histograms (`final`).
 */
export class CallQualityBook extends EventEmitter<CallQualityEvents> {
  private readonly live = new Map<string, Tracked>();

  constructor(private readonly deps: CallQualityDeps) {
    super();
    // Every open call stream listens; their number is the consoles', not a leak.
    this.setMaxListeners(0);
  }

  /** Follows `session` as the media of call `callId`'s own leg, until it closes. */
  track(callId: string, session: QualitySource): void {
    const call = this.deps.calls.get(callId);
    if (!call || session.closed) return;
    const tracked: Tracked = { call, quality: null };
    this.live.set(callId, tracked);
    session.on('stats', ({ stats }) => this.update(tracked, stats));
    session.on('closed', () => this.finish(tracked));
  }

  /** A live call's latest figures; null when unknown (no RTP yet, not tracked, or ended). */
  current(callId: string): CallQuality | null {
    return this.live.get(callId)?.quality ?? null;
  }

  /** Calls being followed (for tests and diagnostics). */
  get size(): number {
    return this.live.size;
  }

  private update(tracked: Tracked, stats: SessionStats): void {
    if (this.live.get(tracked.call.id) !== tracked) return;
    const quality = qualityFromStats(stats, this.deps.now());
    if (!quality) return;
    tracked.quality = quality;
    this.emit('quality', { callId: tracked.call.id, appId: tracked.call.appId, quality, final: false });
  }

  /** The leg's media closed (the final stats came just before): kept on the call, reported once. */
  private finish(tracked: Tracked): void {
    const { call, quality } = tracked;
    if (this.live.get(call.id) !== tracked) return;
    try {
      if (quality) this.deps.calls.keepQuality(call.id, quality);
    } catch (error) {
      // A gateway stopping closes storage while the last media closes.
      this.deps.logger.warn({ callId: call.id, err: error }, 'call quality not stored');
    } finally {
      this.live.delete(call.id);
    }
    if (!quality) return;
    this.emit('quality', { callId: call.id, appId: call.appId, quality, final: true });
    this.emit('final', call, quality);
  }
}
