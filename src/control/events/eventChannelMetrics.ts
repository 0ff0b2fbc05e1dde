import { Counter } from 'prom-client';
import { METRIC_PREFIX, type Metrics } from '../../observability/metricsRegistry.js';

/** The event channel's counters, registered on the gateway's own registry. */
export class EventChannelMetrics {
  readonly sent: Counter;
  readonly resent: Counter;
  readonly acked: Counter;
  readonly reconnects: Counter;
  readonly commands: Counter<'action' | 'outcome'>;
  readonly rejectedMessages: Counter<'code'>;
  readonly refusals: Counter;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    const counter = (name: string, help: string) =>
      new Counter({ name: `${METRIC_PREFIX}${name}`, help, registers });
    this.sent = counter(
      'event_channel_events_sent_total',
      'Events sent to the control plane, resends included',
    );
    this.resent = counter(
      'event_channel_events_resent_total',
      'Events sent again after a reconnect because they were not acked (within this process)',
    );
    this.acked = counter('event_channel_events_acked_total', 'Events the control plane acked');
    this.reconnects = counter(
      'event_channel_reconnects_total',
      'Connections to the control plane opened after the first one',
    );
    this.refusals = counter(
      'event_outbox_refusals_total',
      'New calls refused because the event outbox was full (canAcceptWork false)',
    );
    this.commands = new Counter({
      name: `${METRIC_PREFIX}event_channel_commands_total`,
      help: 'Commands received from the control plane, by action and outcome (ok or the error code)',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.rejectedMessages = new Counter({
      name: `${METRIC_PREFIX}event_channel_rejected_messages_total`,
      help: 'Messages from the control plane answered with an error, by error code',
      labelNames: ['code'],
      registers,
    });
  }
}
