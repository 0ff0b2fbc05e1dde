import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { CallRecordings } from '../../calls/callRecordings.js';
import type { StoredRecording } from '../../store/recordingStore.js';
import { ApiError } from '../apiError.js';
import type { Principal } from '../auth/apiKeys.js';
import { parseByteRange } from '../byteRange.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';
import {
  recordingIdParamsSchema,
  recordingListQuerySchema,
  recordingListSchema,
  recordingSchema,
} from '../schemas/recordingSchemas.js';

export interface RecordingRouteDeps {
  recordings: Pick<CallRecordings, 'get' | 'list' | 'remove'>;
}

/** The Content-Type of each container a recording can be in. */
const MEDIA_TYPES: Record<string, string> = {
  mp4: 'audio/mp4',
  ogg: 'audio/ogg',
  webm: 'audio/webm',
  wav: 'audio/wav',
};

/** A recording as the API shows it: no file system path. */
export function recordingView(recording: StoredRecording): Record<string, unknown> {
  return {
    id: recording.id,
    callId: recording.callId,
    appId: recording.appId,
    kind: recording.kind,
    format: recording.format,
    state: recording.state,
    durationMs: recording.durationMs,
    bytes: recording.bytes,
    startedAt: recording.startedAt,
    endedAt: recording.endedAt,
    mediaUrl: `/v1/recordings/${recording.id}/media`,
  };
}

function isVisible(
  recording: StoredRecording | undefined,
  principal: Principal | undefined,
): recording is StoredRecording {
  if (!recording || !principal) return false;
  return principal.role === 'admin' || (principal.role === 'app' && principal.appId === recording.appId);
}

/**
 * The recording if this key may see it. Another app's recording answers 404 like an unknown one,
 * never 403: an app must not learn which recordings exist elsewhere.
 */
async function ownRecording(
  deps: RecordingRouteDeps,
  id: string,
  principal: Principal | undefined,
): Promise<StoredRecording> {
  const recording = await deps.recordings.get(id);
  if (!isVisible(recording, principal)) throw notFound(id);
  return recording;
}

function notFound(id: string): ApiError {
  return new ApiError(404, 'recording_not_found', `no recording ${id}`);
}

function inProgress(id: string): ApiError {
  return new ApiError(409, 'recording_in_progress', `recording ${id} is still being recorded`);
}

function appScope(principal: Principal | undefined, requested: string | undefined): string | undefined {
  if (principal?.role === 'app') {
    if (requested && requested !== principal.appId) {
      throw new ApiError(403, 'forbidden', 'an app key lists only its own recordings');
    }
    return principal.appId;
  }
  return requested;
}

const idResponses = {
  400: { description: 'malformed recording id', schema: errorBodySchema },
  404: {
    description: 'recording_not_found: no such recording for this key',
    schema: errorBodySchema,
  },
};

export function recordingRoutes(deps: RecordingRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/recordings',
      operationId: 'listRecordings',
      summary: "Recordings (whole calls, voicemail, record verbs), newest first: an app key sees its app's",
      tag: 'recordings',
      access: 'callReader',
      query: recordingListQuerySchema,
      responses: {
        200: { description: 'a page of recordings', schema: recordingListSchema },
        400: { description: 'a bad filter, or a cursor that names no recording', schema: errorBodySchema },
      },
      handler: async ({ query, principal }) => {
        const appId = appScope(principal, query.appId);
        const cursor = query.cursor ? await deps.recordings.get(query.cursor) : undefined;
        if (query.cursor && !isVisible(cursor, principal)) {
          throw ApiError.badRequest([{ field: 'cursor', message: 'no such recording' }]);
        }
        const page = await deps.recordings.list({
          ...(appId ? { appId } : {}),
          ...(query.callId ? { callId: query.callId } : {}),
          ...(query.kind ? { kind: query.kind } : {}),
          ...(cursor ? { after: cursor } : {}),
          limit: query.limit + 1,
        });
        const data = page.slice(0, query.limit);
        const hasMore = page.length > query.limit;
        return {
          data: data.map(recordingView),
          hasMore,
          nextCursor: hasMore ? (data.at(-1)?.id ?? null) : null,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/recordings/:id',
      operationId: 'getRecording',
      summary: 'A recording',
      tag: 'recordings',
      access: 'callReader',
      params: recordingIdParamsSchema,
      responses: {
        200: { description: 'the recording', schema: recordingSchema },
        ...idResponses,
      },
      handler: async ({ params, principal }) => recordingView(await ownRecording(deps, params.id, principal)),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/recordings/:id/media',
      operationId: 'getRecordingMedia',
      summary:
        'The recorded file (audio/mp4, audio/ogg or audio/webm), streamed; one byte range (Range: bytes=a-b, bytes=a-, bytes=-n) answers 206; HEAD gives the headers alone',
      tag: 'recordings',
      access: 'callReader',
      params: recordingIdParamsSchema,
      responses: {
        200: { description: 'the whole file (Accept-Ranges: bytes)', contentType: 'audio/*' },
        206: { description: 'the range asked for, with Content-Range', contentType: 'audio/*' },
        ...idResponses,
        404: {
          description:
            'recording_not_found: no such recording for this key; recording_media_not_found: its file is gone',
          schema: errorBodySchema,
        },
        409: {
          description: 'recording_in_progress: the file is still being written',
          schema: errorBodySchema,
        },
        416: {
          description: 'range_not_satisfiable: the range starts past the end (Content-Range: bytes */size)',
          schema: errorBodySchema,
        },
      },
      handler: async ({ params, principal, request, reply }) => {
        const recording = await ownRecording(deps, params.id, principal);
        if (recording.state === 'recording') throw inProgress(recording.id);
        // Opened once, then sized and streamed through the same descriptor: a file deleted meanwhile
        // is still whole to this request.
        let file: FileHandle;
        try {
          file = await open(recording.path, 'r');
        } catch {
          throw new ApiError(
            404,
            'recording_media_not_found',
            `the file of recording ${recording.id} is gone`,
          );
        }
        let stats: Awaited<ReturnType<FileHandle['stat']>>;
        try {
          stats = await file.stat();
        } catch (error) {
          await file.close();
          throw error;
        }
        const size = stats.size;
        const etag = `"${size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
        // If-Range: the range only if the file is still the one the client has part of.
        const ifRange = request.headers['if-range'];
        const range = parseByteRange(
          ifRange === undefined || ifRange === etag ? request.headers.range : undefined,
          size,
        );
        reply
          .header('accept-ranges', 'bytes')
          .header('etag', etag)
          .header('last-modified', stats.mtime.toUTCString())
          .header('cache-control', 'private, no-cache')
          .header('x-content-type-options', 'nosniff');
        if (range.kind === 'unsatisfiable') {
          await file.close();
          const error = new ApiError(
            416,
            'range_not_satisfiable',
            `the range ${request.headers.range ?? ''} is outside the file (${size} bytes)`,
          );
          return reply.code(416).header('content-range', `bytes */${size}`).send(error.toBody());
        }
        const start = range.kind === 'partial' ? range.start : 0;
        const end = range.kind === 'partial' ? range.end : size - 1;
        reply
          .type(MEDIA_TYPES[recording.format] ?? 'application/octet-stream')
          .header('content-disposition', `inline; filename="${recording.id}.${recording.format}"`)
          .header('content-length', String(end - start + 1));
        if (range.kind === 'partial')
          reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
        if (request.method === 'HEAD' || size === 0) {
          await file.close();
          // An empty stream keeps the Content-Length set above (HEAD sends no body anyway).
          return reply.send(Readable.from([]));
        }
        return reply.send(createReadStream(recording.path, { fd: file, start, end }));
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/recordings/:id',
      operationId: 'deleteRecording',
      summary:
        'Deletes a recording: its file and its record; the control plane hears calls.recording.deleted',
      tag: 'recordings',
      access: 'callReader',
      params: recordingIdParamsSchema,
      responses: {
        204: { description: 'deleted' },
        ...idResponses,
        409: { description: 'recording_in_progress: it is still being written', schema: errorBodySchema },
      },
      handler: async ({ params, principal, reply }) => {
        const recording = await ownRecording(deps, params.id, principal);
        const outcome = await deps.recordings.remove(recording.id);
        if (outcome === 'in_progress') throw inProgress(recording.id);
        if (outcome === 'not_found') throw notFound(recording.id);
        return reply.code(204).send();
      },
    }),
  ];
}
