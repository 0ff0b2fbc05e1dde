import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Access } from './auth/access.js';
import type { Principal } from './auth/apiKeys.js';

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface ResponseSpec {
  description: string;
  /** JSON body schema; omitted for non-JSON bodies (metrics text) or empty ones. */
  schema?: z.ZodType;
  contentType?: string;
}

export interface RouteContext<P, B, Q = unknown> {
  params: P;
  body: B;
  query: Q;
  principal: Principal | undefined;
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * One API operation, declared once: the server registers it (auth, validation, handler) and the
 * OpenAPI document is generated from the same declaration, so the two cannot drift apart.
 */
export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** fastify form: `/v1/organization/apps/:appId/calling`. */
  url: string;
  operationId: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  body?: B;
  /** Query string; values arrive as strings, so use z.coerce for numbers. */
  query?: Q;
  responses: Record<number, ResponseSpec>;
  handler(context: RouteContext<z.output<P>, z.output<B>, z.output<Q>>): unknown | Promise<unknown>;
}

/** Keeps the params and body types of a spec tied to its handler's arguments. */
export function defineRoute<P extends z.ZodType, B extends z.ZodType, Q extends z.ZodType = z.ZodType>(
  spec: RouteSpec<P, B, Q>,
): RouteSpec {
  return spec as unknown as RouteSpec;
}
