import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { EngineCounts, MessageTotals } from '../core/coreTypes.js';

/** What the metrics read; the engine provides it. */
export interface MetricsSource {
  counts(): EngineCounts;
  messageTotals(): MessageTotals;
}

/**
 * Prometheus view of the engine, read at scrape time from the engine's counts (no second
 * bookkeeping to drift). Message totals only grow, so they are exposed as `_total` gauges that
 * behave as counters.
 */
export function createEngineMetrics(source: MetricsSource): Registry {
  const registry = new Registry();
  // Process CPU, memory, event-loop lag and GC, prefixed so they sit beside the engine's own series.
  collectDefaultMetrics({ register: registry, prefix: 'sip_engine_' });
  const gauge = (name: string, help: string, pick: (c: EngineCounts) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(source.counts()));
      },
    });
  };
  gauge('sip_engine_transactions', 'Live SIP transactions', (c) => c.transactions);
  gauge('sip_engine_dialogs', 'Confirmed dialogs held', (c) => c.dialogs);
  gauge('sip_engine_connections', 'Open TCP/TLS SIP connections', (c) => c.connections);
  gauge('sip_engine_apps', 'Authenticated drachtio apps', (c) => c.apps);
  gauge('sip_engine_app_connections', 'Open admin connections', (c) => c.appConnections);
  gauge('sip_engine_pending_app_commands', 'App commands awaiting an answer', (c) => c.pendingAppCommands);
  gauge(
    'sip_engine_pending_server_requests',
    'Network requests handed to apps',
    (c) => c.pendingServerRequests,
  );
  gauge('sip_engine_pending_client_requests', 'Requests sent for apps', (c) => c.pendingClientRequests);
  gauge('sip_engine_parse_errors_total', 'Unparseable SIP messages received', (c) => c.parseErrors);

  const messages = new Gauge({
    name: 'sip_engine_messages_total',
    help: 'SIP messages by direction, kind and method or status',
    labelNames: ['direction', 'kind', 'name'] as const,
    registers: [registry],
    collect() {
      const t = source.messageTotals();
      const put = (direction: string, kind: string, table: Record<string, number>): void => {
        for (const [name, value] of Object.entries(table)) this.set({ direction, kind, name }, value);
      };
      put('in', 'request', t.requestsIn);
      put('out', 'request', t.requestsOut);
      put('in', 'response', t.responsesIn);
      put('out', 'response', t.responsesOut);
    },
  });
  void messages;
  return registry;
}
