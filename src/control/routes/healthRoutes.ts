import { z } from 'zod';
import type { Readiness } from '../../observability/readiness.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';

const readinessSchema = z
  .object({
    ready: z.boolean(),
    parts: z.record(
      z.string(),
      z.object({
        ok: z.boolean(),
        detail: z.string().optional(),
        advisory: z.literal(true).optional().meta({
          description:
            'A part only some calls depend on (a trunk registration): shown, never what makes the gateway not ready.',
        }),
      }),
    ),
  })
  .meta({ id: 'Readiness' });

export function healthRoutes(readiness: Readiness): RouteSpec[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/healthz',
      operationId: 'health',
      summary: 'The process is up (liveness)',
      tag: 'health',
      access: 'public',
      responses: {
        200: { description: 'up', schema: z.object({ status: z.literal('ok') }).meta({ id: 'Health' }) },
      },
      handler: () => ({ status: 'ok' }),
    }),
    defineRoute({
      method: 'GET',
      url: '/readyz',
      operationId: 'ready',
      summary: 'Every part needed to take calls is up (readiness); 503 names the parts that are not',
      tag: 'health',
      access: 'public',
      responses: {
        200: { description: 'ready', schema: readinessSchema },
        503: {
          description: 'not ready; the failing parts carry ok: false and a detail',
          schema: readinessSchema,
        },
      },
      handler: async ({ reply }) => {
        const report = await readiness.report();
        reply.code(report.ready ? 200 : 503);
        return report;
      },
    }),
  ];
}
