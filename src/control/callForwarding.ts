import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from './apiError.js';

/** Which node carries a live call (CallOwnership in Redis). */
export interface CallOwners {
  ownerOf(
    callId: string,
  ): Promise<
    { nodeId: string; alive: true; internalUrl: string } | { nodeId: string; alive: false } | undefined
  >;
}

export interface CallForwarderDeps {
  owners: CallOwners;
  /** This node's id: a call it owns but does not carry is not sent back to itself. */
  nodeId: string;
  logger: Logger;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Marks a request one node sent another: the owner answers it itself, never forwards it again. */
export const FORWARDED_HEADER = 'x-gateway-forwarded-by';

/**
 * Commands for a call another node carries (hang up, call flow, actions, tokens) go to that
 * node, over HTTP to its cluster.internalUrl, and its answer goes back as this node's: the
 * client can send any command to any node. HTTP rather than Redis messages, because a command
 * answers with the call after it, synchronously, and the owner checks the same API key (every
 * node has the same keys) with the same validation: nothing new to secure or keep in step.
 */
export class CallForwarder {
  private readonly fetch: typeof fetch;

  constructor(private readonly deps: CallForwarderDeps) {
    this.fetch = deps.fetch ?? fetch;
  }

  /**
   * Relays the request to the call's owner and answers with its response; false when this node
   * must answer itself (the call is not live elsewhere, or the request was forwarded already).
   */
  async relay(callId: string, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    if (request.headers[FORWARDED_HEADER]) return false;
    const owner = await this.deps.owners.ownerOf(callId).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, callId }, 'cluster: owner of a call unknown (Redis)');
      throw new ApiError(503, 'cluster_unavailable', 'the node carrying this call cannot be found right now');
    });
    if (!owner || owner.nodeId === this.deps.nodeId) return false;
    if (!owner.alive) {
      // Its calls end within a lease, by whichever node takes it over.
      throw new ApiError(
        503,
        'node_unavailable',
        `the node carrying call ${callId} is down; the call is ending`,
      );
    }
    const url = new URL(request.url, owner.internalUrl);
    const headers: Record<string, string> = { [FORWARDED_HEADER]: this.deps.nodeId };
    const auth = request.headers.authorization;
    if (auth) headers.authorization = auth;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: request.method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.timeout(this.deps.timeoutMs ?? 5000),
      });
    } catch (error) {
      this.deps.logger.warn(
        { err: error, callId, owner: owner.nodeId },
        'cluster: forwarding a command failed',
      );
      throw new ApiError(502, 'node_unreachable', `the node carrying call ${callId} did not answer`);
    }
    const body = await response.text();
    reply
      .code(response.status)
      .header('content-type', response.headers.get('content-type') ?? 'application/json');
    await reply.send(body);
    return true;
  }
}
