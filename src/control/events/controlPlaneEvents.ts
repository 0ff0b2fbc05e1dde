import type { Logger } from 'pino';
import type { CallEventSink } from '../../calls/callServiceTypes.js';
import type { GatewayConfig } from '../../config/schema.js';
import type { Metrics } from '../../observability/metricsRegistry.js';
import type { SqlStore } from '../../store/sql/sqlTypes.js';
import { type CommandHandler, NotImplementedCommandHandler } from './commandHandler.js';
import { EventChannel } from './eventChannel.js';
import { EventChannelMetrics } from './eventChannelMetrics.js';
import { EventOutbox } from './eventOutbox.js';
import type { AppendInput } from './outboxTypes.js';

/** Another node's event stream: its calls' events, and their delivery on its behalf. */
export interface NodeEventStream {
  events: CallEventSink;
  deliver(): Promise<void>;
}

export interface ControlPlaneEventsDeps {
  config: GatewayConfig['control'];
  database: SqlStore;
  /** The node whose event stream this is (EventOutboxOptions.nodeId). */
  nodeId?: string;
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
  /** Channels delivering the streams of nodes taken over, until each is acked. */
  private readonly resumed = new Set<EventChannel>();
  private stopped = false;
  private onStop: () => void = () => undefined;
  private readonly stopped$ = new Promise<void>((resolve) => {
    this.onStop = resolve;
  });

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
      ...(deps.nodeId ? { nodeId: deps.nodeId } : {}),
    });
    const whenOpen = (read: () => number | Promise<number>) => async () => {
      if (!this.outbox.readable) return 0;
      try {
        return await read();
      } catch {
        return 0; // the store away or closing: the scrape still answers
      }
    };
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
      whenOpen(async () => (await this.outbox.oldestUnackedAgeMs()) / 1000),
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
    return {
      append: (event) => this.outbox.append(event as AppendInput),
      commit: (statements) => this.outbox.commit(statements),
    };
  }

  /** Whether new calls may start: see `EventOutbox.canAcceptWork`. */
  canAcceptWork(): boolean {
    return this.outbox.canAcceptWork();
  }

  /** Loads what the outbox keeps in memory; before anything appends. */
  async open(): Promise<void> {
    await this.outbox.open();
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

  /**
   * Another node's event stream (a dead node this one takes over): where the last events of its
   * calls go, after the ones it wrote itself, and their delivery to the control plane as that
   * node (its gateway id, its seqs), until every one is acked. No control plane: they are kept,
   * as this node's are, for the retention window.
   */
  async streamOf(nodeId: string): Promise<NodeEventStream> {
    const outbox = await new EventOutbox({
      database: this.deps.database,
      logger: this.deps.logger,
      maxDepth: Number.MAX_SAFE_INTEGER,
      enforceMaxDepth: false,
      now: this.now,
      nodeId,
    }).open();
    return {
      events: {
        append: (event) => outbox.append(event as AppendInput),
        commit: (statements) => outbox.commit(statements),
      },
      deliver: () => this.deliverFor(outbox, nodeId),
    };
  }

  private async deliverFor(outbox: EventOutbox, nodeId: string): Promise<void> {
    const { config } = this.deps;
    if (config.url === null || this.stopped || outbox.depth() === 0) return;
    const logger = this.deps.logger.child({ stream: nodeId });
    const channel = new EventChannel({
      url: config.url,
      token: config.token,
      gatewayId: outbox.gatewayId(),
      version: this.deps.version,
      outbox,
      // Commands for a node that is gone have nobody to carry them out.
      commands: new NotImplementedCommandHandler(),
      logger,
      metrics: this.eventMetrics,
      reconnect: { minMs: config.reconnectMinMs, maxMs: config.reconnectMaxMs },
      sendWindow: config.sendWindow,
    });
    this.resumed.add(channel);
    const drained = new Promise<void>((resolve) => {
      const check = () => {
        if (outbox.depth() > 0) return;
        channel.off('acked', check);
        resolve();
      };
      channel.on('acked', check);
    });
    channel.start();
    await Promise.race([drained, this.stopped$]);
    this.resumed.delete(channel);
    await channel.stop();
    logger.info('delivered the event stream of a node taken over');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.onStop();
    clearInterval(this.pruneTimer);
    await Promise.all([...this.resumed].map((channel) => channel.stop()));
    await this.channel?.stop();
  }

  private prune(): void {
    if (!this.outbox.readable) return;
    const { config, logger } = this.deps;
    const cutoff = new Date(this.now().getTime() - config.ackedRetentionSeconds * 1000);
    this.outbox.prune(cutoff, { includeUnacked: config.url === null }).then(
      (pruned) => {
        if (pruned > 0) logger.debug({ pruned }, 'pruned the event outbox');
      },
      (error: unknown) => {
        if (this.outbox.readable) logger.error({ err: error }, 'could not prune the event outbox');
      },
    );
  }
}
