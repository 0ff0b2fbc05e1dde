import type { Logger } from 'pino';
import type { CallEventSink } from '../../calls/callServiceTypes.js';
import type { GatewayConfig } from '../../config/schema.js';
import type { Metrics } from '../../observability/metricsRegistry.js';
import type { Database } from '../../store/database.js';
import type { CommandHandler } from './commandHandler.js';
import { EventChannel } from './eventChannel.js';
import { EventChannelMetrics } from './eventChannelMetrics.js';
import { EventOutbox } from './eventOutbox.js';
import type { AppendInput } from './outboxTypes.js';

export interface ControlPlaneEventsDeps {
  config: GatewayConfig['control'];
  database: Database;
  metrics: Metrics;
  logger: Logger;
  version: string;
  now?: () => Date;
}

/** How often acked events past their retention are deleted. */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * The event channel's parts for the gateway: the outbox (built at once, so the call layer can be
 * given it), the WebSocket channel (built at start, with the command handler the call layer
 * provides), pruning, and metrics.
 *
 * With `control.url` null the channel is off; the outbox still records every event, and events
 * older than `ackedRetentionSeconds` are pruned whether acked or not (nothing will ever ack
 * them), so a control plane configured later receives the retention window's events. Admission
 * is then not limited by the outbox, since no consumer exists to catch up.
 */
export class ControlPlaneEvents {
  readonly outbox: EventOutbox;
  private readonly eventMetrics: EventChannelMetrics;
  private channel: EventChannel | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly now: () => Date;

  constructor(private readonly deps: ControlPlaneEventsDeps) {
    this.now = deps.now ?? (() => new Date());
    this.eventMetrics = new EventChannelMetrics(deps.metrics);
    this.outbox = new EventOutbox({
      database: deps.database,
      logger: deps.logger,
      maxDepth: deps.config.outboxMaxDepth,
      enforceMaxDepth: deps.config.url !== null,
      refusals: this.eventMetrics.refusals,
      now: this.now,
    });
    const whenOpen = (read: () => number) => () => (this.outbox.readable ? read() : 0);
    deps.metrics.gauge(
      'event_channel_connected',
      'Whether the control plane event channel is connected (1) or not (0)',
      () => Number(this.channel?.isConnected ?? false),
    );
    deps.metrics.gauge(
      'event_outbox_depth',
      'Events in the outbox not yet acked by the control plane',
      whenOpen(() => this.outbox.depth()),
    );
    deps.metrics.gauge(
      'event_outbox_oldest_unacked_age_seconds',
      'Age of the oldest event the control plane has not acked; 0 when none',
      whenOpen(() => this.outbox.oldestUnackedAgeMs() / 1000),
    );
  }

  /** The channel, once started with a control plane configured (tests wait on its events). */
  get eventChannel(): EventChannel | undefined {
    return this.channel;
  }

  /**
   * Where the call layer's events go: the outbox, in the call's own transaction. The outbox
   * types its event names; the call layer emits exactly those (STATUS_EVENTS and its own).
   */
  callEvents(): CallEventSink {
    return { append: (event) => this.outbox.append(event as AppendInput) };
  }

  /** Whether new calls may start: see `EventOutbox.canAcceptWork`. */
  canAcceptWork(): boolean {
    return this.outbox.canAcceptWork();
  }

  start(commands: CommandHandler): void {
    const { config, logger } = this.deps;
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
    if (config.url === null) {
      logger.info(
        { retentionSeconds: config.ackedRetentionSeconds },
        'no control plane configured (control.url): events are recorded and kept for the retention window',
      );
      return;
    }
    this.channel = new EventChannel({
      url: config.url,
      token: config.token,
      gatewayId: this.outbox.gatewayId(),
      version: this.deps.version,
      outbox: this.outbox,
      commands,
      logger,
      metrics: this.eventMetrics,
      reconnect: { minMs: config.reconnectMinMs, maxMs: config.reconnectMaxMs },
      sendWindow: config.sendWindow,
    });
    this.channel.start();
  }

  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.channel?.stop();
  }

  private prune(): void {
    if (!this.outbox.readable) return;
    const { config, logger } = this.deps;
    const cutoff = new Date(this.now().getTime() - config.ackedRetentionSeconds * 1000);
    try {
      const pruned = this.outbox.prune(cutoff, { includeUnacked: config.url === null });
      if (pruned > 0) logger.debug({ pruned }, 'pruned the event outbox');
    } catch (error) {
      logger.error({ err: error }, 'could not prune the event outbox');
    }
  }
}
