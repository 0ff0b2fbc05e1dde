import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import { eventChannelJsonSchema } from './eventSchemaDocument.js';

export function eventSchemaRoutes(): RouteSpec[] {
  // Built once: the schemas are fixed for the life of the process.
  const document = eventChannelJsonSchema();
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/events/schema',
      operationId: 'getEventChannelSchema',
      summary: 'JSON Schema of every message on the control-plane event channel, both ways',
      tag: 'events',
      access: 'any',
      responses: {
        200: {
          description: 'a JSON Schema (2020-12) document; $defs names each message',
          schema: z.looseObject({}).meta({ id: 'JsonSchemaDocument' }),
        },
      },
      handler: () => document,
    }),
  ];
}
