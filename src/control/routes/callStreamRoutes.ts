import type { CallQualityBook, CallQualityUpdate } from '../../calls/callQuality.js';
import type { CallRecordings, RecordingChange } from '../../calls/callRecordings.js';
import type { CallService } from '../../calls/callService.js';
import type { CallStore } from '../../calls/callStore.js';
import type { Call } from '../../calls/callTypes.js';
import { appVisible, isVisible } from '../callVisibility.js';
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
  /** Live calls' leg quality, pushed as `quality` events; none when absent. */
  quality?: Pick<CallQualityBook, 'on' | 'off'>;
  /** Recordings as they start, end and go, pushed as `recording` events; none when absent. */
  recordings?: Pick<CallRecordings, 'on' | 'off'>;
  /** How often a comment line keeps idle proxies from closing the stream. */
  heartbeatMs?: number;
}

/** Calls in the first message: the recent ones, live and ended, newest first. */
const SNAPSHOT_CALLS = 50;
const DEFAULT_HEARTBEAT_MS = 15_000;

/**
 * The calls a key may see, pushed as they change (Server-Sent Events), for pages such as the
 * agent console: a `snapshot` of the recent calls first, then a `call` event with the whole call
 * after each status change, and a `quality` event ({callId, quality, final}) with a live call's
 * leg quality each time it is measured (every 2 s or so), its final figures once its media
 * closed. Authorised like the REST API (an Authorization header, so a page
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
          description:
            'event: snapshot (data: {data: Call[]}), then event: call (data: Call) per change, and ' +
            'event: quality (data: {callId, quality: CallQuality, final: boolean}) every few seconds ' +
            "per live call with its leg's figures, once more with the final ones; event: call also " +
            'when someone joins or leaves its room; event: recording (data: {id, appId, callId, state}) ' +
            'when a recording starts, ends or is deleted',
          contentType: 'text/event-stream',
        },
      },
      handler: async ({ principal, reply, request }) => {
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
          if (isVisible(call, principal)) send('call', deps.calls.withLiveState(call));
        };
        const onQuality = ({ callId, appId: owner, quality, final }: CallQualityUpdate): void => {
          if (appVisible(owner, principal)) send('quality', { callId, quality, final });
        };
        const onRecording = (change: RecordingChange): void => {
          if (appVisible(change.appId, principal)) send('recording', change);
        };
        // Listening before the snapshot is read: a change in between is sent twice, never lost.
        deps.calls.on('transition', onTransition);
        deps.calls.on('participants', onTransition);
        deps.quality?.on('quality', onQuality);
        deps.recordings?.on('changed', onRecording);
        // Read after every change already made: the snapshot is never older than a change sent before it.
        const recent = await deps.store.list({ ...(appId ? { appId } : {}), limit: SNAPSHOT_CALLS });
        send('snapshot', {
          data: recent.map((call) => deps.calls.get(call.id) ?? deps.calls.withLiveState(call)),
        });
        const heartbeat = setInterval(
          () => out.write(': keep-alive\n\n'),
          deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
        );
        const forget = deps.streams.add(() => out.end());
        const stop = (): void => {
          clearInterval(heartbeat);
          deps.calls.off('transition', onTransition);
          deps.calls.off('participants', onTransition);
          deps.quality?.off('quality', onQuality);
          deps.recordings?.off('changed', onRecording);
          forget();
        };
        request.raw.on('close', stop);
        out.on('close', stop);
        out.on('error', stop);
      },
    }),
  ];
}
