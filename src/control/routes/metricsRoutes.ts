import type { Metrics } from '../../observability/metricsRegistry.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';

export function metricsRoutes(metrics: Metrics): RouteSpec[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics (text exposition format)',
      tag: 'observability',
      access: 'metrics',
      responses: {
        200: { description: 'metrics', contentType: 'text/plain; version=0.0.4' },
      },
      handler: async ({ reply }) => {
        reply.type(metrics.contentType);
        return metrics.render();
      },
    }),
  ];
}
