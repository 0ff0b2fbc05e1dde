import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../routeSpec.js';

/** `document` is read per request: it is built from every route, this one included. */
export function openApiRoutes(document: () => unknown): RouteSpec[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/openapi.json',
      operationId: 'openApi',
      summary: 'This OpenAPI document',
      tag: 'meta',
      access: 'any',
      responses: {
        200: {
          description: 'the OpenAPI 3.1 document',
          schema: z.looseObject({}).meta({ id: 'OpenApiDocument' }),
        },
      },
      handler: () => document(),
    }),
  ];
}
