import type { CallService } from '../../calls/callService.js';
import type { CallStore } from '../../calls/callStore.js';
import type { Call } from '../../calls/callTypes.js';
import { isVisible } from '../callVisibility.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';

/** The open streams, so a stopping gateway ends them instead of waiting for their readers. */
export class CallStreams {
  private readonly open = new Set<() => void>();

  add(end: () => void): () => void {
    this.open.add(end);
    return () => this.open.delete(end);
  }

  endAll(): void {
    for (const end of [...this.open]) end();
  }
}

export interface CallStreamRouteDeps {
  calls: CallService;
  store: CallStore;
  streams: CallStreams;
  /** How often a comment line keeps idle proxies from closing the stream. */
  heartbeatMs?: number;
}

/** Calls in the first message: the recent ones, live and ended, newest first. */
const SNAPSHOT_CALLS = 50;
const DEFAULT_HEARTBEAT_MS = 15_000;

/**
 * The calls a key may see, pushed as they change (Server-Sent Events), for pages such as the
 * agent console: a `snapshot` of the recent calls first, then a `call` event with the whole call
 * after each status change. Authorised like the REST API (an Authorization header, so a page
 * reads it with fetch rather than EventSource); an app key sees its own app's calls only.
 */
export function callStreamRoutes(deps: CallStreamRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/calls/stream',
      operationId: 'streamCalls',
      summary: 'The calls this key may see, pushed as they change (text/event-stream)',
      tag: 'calls',
      access: 'callReader',
      responses: {
        200: {
          description: 'event: snapshot (data: {data: Call[]}), then event: call (data: Call) per change',
          contentType: 'text/event-stream',
        },
      },
      handler: ({ principal, reply, request }) => {
        const appId = principal?.role === 'app' ? principal.appId : undefined;
        reply.hijack();
        const out = reply.raw;
        out.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          'x-accel-buffering': 'no',
          connection: 'keep-alive',
        });
        const send = (event: string, data: unknown): void => {
          out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        };
        const onTransition = (call: Call): void => {
          if (isVisible(call, principal)) send('call', call);
        };
        // Listening before the snapshot is read: a change in between is sent twice, never lost.
        deps.calls.on('transition', onTransition);
        send('snapshot', { data: deps.store.list({ ...(appId ? { appId } : {}), limit: SNAPSHOT_CALLS }) });
        const heartbeat = setInterval(
          () => out.write(': keep-alive\n\n'),
          deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
        );
        const forget = deps.streams.add(() => out.end());
        const stop = (): void => {
          clearInterval(heartbeat);
          deps.calls.off('transition', onTransition);
          forget();
        };
        request.raw.on('close', stop);
        out.on('close', stop);
        out.on('error', stop);
      },
    }),
  ];
}
