import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../observability/metricsRegistry.js';
import type { CallPhase } from './callPhases.js';
import type { CallQualityBook, QualityCall } from './callQuality.js';
import type { CallService } from './callService.js';
import { type Call, type CallQuality, type CallStatus, isFinal } from './callTypes.js';

/** Live calls by direction and status, as storage counts them (read at scrape time). */
export type LiveCallCounts = () => { direction: string; status: string; count: number }[];

/** Media worker state, read at scrape time. */
export type MediaWorkerCounts = () => readonly { index: number; state: string; sessions: number }[];

export interface CallMetricsDeps {
  registry: Registry;
  calls: CallService;
  live: LiveCallCounts;
  /** This process's live calls by phase (a call stuck answering shows here). */
  phases: () => Record<CallPhase, number>;
  workers: MediaWorkerCounts;
  /** Calls' final leg quality, observed once per call into the quality histograms. */
  quality?: Pick<CallQualityBook, 'on'>;
}

type QualityLabels = 'channel' | 'direction';

/**
 * Call metrics for Prometheus: calls started and ended (by status and end reason), live calls,
 * how long calls rang before they were answered and how long they lasted, how each call's own
 * leg sounded at its end (MOS, packet loss, jitter), and media worker sessions. Counted from the
 * call service's committed transitions and the calls' final quality, so they agree with the API.
 */
export class CallMetrics {
  private readonly started: Counter<'direction' | 'channel'>;
  private readonly ended: Counter<'direction' | 'status' | 'end_reason'>;
  private readonly answerDelay: Histogram<'direction'>;
  private readonly duration: Histogram<'direction'>;
  private readonly mos: Histogram<QualityLabels>;
  private readonly packetLoss: Histogram<QualityLabels>;
  private readonly jitter: Histogram<QualityLabels>;

  constructor(deps: CallMetricsDeps) {
    const registers = [deps.registry];
    this.started = new Counter({
      name: `${METRIC_PREFIX}calls_started_total`,
      help: 'Calls created, by direction and the channel of the far end',
      labelNames: ['direction', 'channel'],
      registers,
    });
    this.ended = new Counter({
      name: `${METRIC_PREFIX}calls_ended_total`,
      help: 'Calls ended, by direction, final status and end reason',
      labelNames: ['direction', 'status', 'end_reason'],
      registers,
    });
    this.answerDelay = new Histogram({
      name: `${METRIC_PREFIX}call_answer_delay_seconds`,
      help: 'From call creation to answer (in_progress or voicemail), by direction',
      labelNames: ['direction'],
      buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60],
      registers,
    });
    this.duration = new Histogram({
      name: `${METRIC_PREFIX}call_duration_seconds`,
      help: 'Talk time of answered calls (the billed duration), by direction',
      labelNames: ['direction'],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 14400],
      registers,
    });
    // Per call, at its end: the figures its own leg (the phone side) ended with (CallQuality).
    this.mos = new Histogram({
      name: `${METRIC_PREFIX}call_mos`,
      help: "E-model MOS estimate (1-4.5) of each call's own leg at its end, by far end's channel and direction",
      labelNames: ['channel', 'direction'],
      buckets: [1.5, 2, 2.5, 3, 3.25, 3.5, 3.75, 4, 4.2, 4.3, 4.4, 4.5],
      registers,
    });
    this.packetLoss = new Histogram({
      name: `${METRIC_PREFIX}call_packet_loss_ratio`,
      help: "Share of RTP packets lost (0-1) over each call on its own leg, by far end's channel and direction",
      labelNames: ['channel', 'direction'],
      buckets: [0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1],
      registers,
    });
    this.jitter = new Histogram({
      name: `${METRIC_PREFIX}call_jitter_seconds`,
      help: "RFC 3550 interarrival jitter of each call's own leg at its end, by far end's channel and direction",
      labelNames: ['channel', 'direction'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5],
      registers,
    });
    deps.quality?.on('final', (call, quality) => this.recordQuality(call, quality));
    new Gauge({
      name: `${METRIC_PREFIX}calls_live`,
      help: 'Calls not yet ended, by direction and status',
      labelNames: ['direction', 'status'],
      registers,
      collect() {
        this.reset();
        for (const { direction, status, count } of deps.live()) this.set({ direction, status }, count);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}calls_phase`,
      help: 'Live calls this gateway process carries, by phase (ringing, answering, answered, ending)',
      labelNames: ['phase'],
      registers,
      collect() {
        this.reset();
        for (const [phase, count] of Object.entries(deps.phases())) this.set({ phase }, count);
      },
    });
    const { workers } = deps;
    new Gauge({
      name: `${METRIC_PREFIX}media_sessions`,
      help: 'Media sessions (calls with media) per media worker',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        for (const { index, sessions } of workers()) this.set({ worker: String(index) }, sessions);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}media_workers_ready`,
      help: 'Media workers ready to take calls',
      registers,
      collect() {
        this.set(workers().filter((w) => w.state === 'ready').length);
      },
    });
    deps.calls.on('transition', (call, previous) => this.record(call, previous));
  }

  private recordQuality(call: QualityCall, quality: CallQuality): void {
    const labels = {
      channel: call.direction === 'inbound' ? call.fromChannel : call.toChannel,
      direction: call.direction,
    };
    if (quality.mos !== null) this.mos.observe(labels, quality.mos);
    this.packetLoss.observe(labels, quality.packetLossRatio);
    this.jitter.observe(labels, quality.jitterMs / 1000);
  }

  private record(call: Call, previous: CallStatus | undefined): void {
    const direction = call.direction;
    if (previous === undefined) {
      this.started.inc({ direction, channel: direction === 'inbound' ? call.fromChannel : call.toChannel });
      return;
    }
    if ((call.status === 'in_progress' || call.status === 'voicemail') && call.answeredAt) {
      const delay = (Date.parse(call.answeredAt) - Date.parse(call.startedAt)) / 1000;
      this.answerDelay.observe({ direction }, Math.max(0, delay));
    }
    if (isFinal(call.status)) {
      this.ended.inc({ direction, status: call.status, end_reason: call.endReason ?? 'none' });
      if (call.answeredAt) this.duration.observe({ direction }, call.duration);
    }
  }
}
