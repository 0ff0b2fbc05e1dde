import type { Logger } from 'pino';
import type { CallRooms } from '../../livekit/callRooms.js';
import type { MediaSession } from '../../media/workers/MediaSession.js';
import type { CreatedSession, CreateSessionRequest } from '../../media/workers/workerPoolTypes.js';
import { type GraphApi, GraphApiError, NO_CALL_PERMISSION } from '../../signalling/graph/graphApi.js';
import { GraphLeg } from '../../signalling/graph/graphLeg.js';
import { GRAPH_TRUNK } from '../../signalling/graph/graphTrunk.js';
import type { GraphCallEvent } from '../../signalling/graph/graphWebhook.js';
import { DialFailed } from '../callErrors.js';
import { joinRoom, SIP_CALL_STATUS, sipAttributes, updateCallStatus } from '../roomJoin.js';
import type { DialedLeg, DialRequest } from './outboundDialer.js';

/** What the dialer needs of Graph-mode signalling (GraphCalls). */
export interface GraphNumbers {
  numberFor(appId: string, from: string): { api: GraphApi } | undefined;
  follow(wacid: string, listener: (event: GraphCallEvent) => void): () => void;
}

export interface GraphDialerDeps {
  graph: GraphNumbers;
  media: { createSession(request: CreateSessionRequest): Promise<CreatedSession> };
  rooms: Pick<CallRooms, 'tokens' | 'connection'> & Partial<Pick<CallRooms, 'setParticipantAttributes'>>;
  logger: Logger;
}

/** A Graph dial also says which WhatsApp call it placed. */
export interface GraphDialRequest extends DialRequest {
  onWhatsAppCall?: (wacid: string) => void;
}

/**
 * Places a WhatsApp call from a Graph-mode business number: our WebRTC offer (ICE, DTLS-SRTP,
 * Opus) goes to the provider in a `connect` action, the session joins the room while it rings,
 * and the callee's webhooks drive the rest: the `connect` carrying their SDP answer, RINGING,
 * then ACCEPTED (the leg is returned) or REJECTED / terminate (a DialFailed). A ring timeout or
 * an abort sends `terminate`. Whatever way it fails, the media session is closed.
 */
export class GraphDialer {
  constructor(private readonly deps: GraphDialerDeps) {}

  /** Whether `from` is a Graph-mode business number of the app. */
  canDial(appId: string, from: string): boolean {
    return this.deps.graph.numberFor(appId, from) !== undefined;
  }

  /** Whether the callee lets the business call them (Meta's call_permissions). */
  async mayCall(appId: string, from: string, to: string): Promise<boolean> {
    const number = this.deps.graph.numberFor(appId, from);
    if (!number) return false;
    return number.api.mayCall(to);
  }

  async dial(request: GraphDialRequest): Promise<DialedLeg> {
    const number = this.deps.graph.numberFor(request.appId, request.from);
    if (!number) throw new DialFailed('trunk_error', null, `${request.from} is not a Graph-mode number`);
    const log = this.deps.logger.child({ callId: request.callId, trunk: GRAPH_TRUNK });
    let session: MediaSession | undefined;
    let leg: GraphLeg | undefined;
    let unfollow = (): void => {};
    let metaEnded = false;
    try {
      const created = await this.deps.media.createSession({
        remoteOffer: null,
        callId: request.callId,
        encryption: { method: 'dtls', required: true },
      });
      session = created.session;
      request.onSession?.(session);
      const participant = { roomName: request.roomName, identity: request.identity };
      const joined = joinRoom(this.deps.rooms, session, {
        ...participant,
        attributes: {
          [SIP_CALL_STATUS]: 'dialing',
          ...sipAttributes({
            callId: request.callId,
            from: request.from,
            to: request.to,
            trunk: GRAPH_TRUNK,
            direction: 'outbound',
            mediaEncryption: 'dtls',
          }),
          ...request.attributes,
        },
      });
      joined.catch(() => undefined);
      const wacid = await connect(number.api, request.to, created.localSdp);
      request.onWhatsAppCall?.(wacid);
      leg = GraphLeg.outgoing(wacid, number.api, log);
      const placed = leg;
      const answered = this.untilAccepted(wacid, session, request, log, (stop) => {
        unfollow = stop;
      });
      answered.catch(() => undefined);
      const outcome = await raceAbortAndTimeout(answered, request);
      if (outcome !== 'accepted') {
        throw new DialFailed(
          outcome,
          null,
          outcome === 'canceled' ? 'the dial was given up' : 'no answer in time',
        );
      }
      await joined;
      placed.accepted();
      // From here on the leg hears Meta's terminate itself.
      unfollow();
      unfollow = this.deps.graph.follow(wacid, (event) => {
        if (event.event === 'terminate') placed.terminated({ durationSeconds: event.durationSeconds });
      });
      placed.onFinished(() => unfollow());
      void updateCallStatus(this.deps.rooms, participant, 'active', log);
      log.info({ wacid }, 'WhatsApp call answered');
      return { leg: placed, session, trunk: GRAPH_TRUNK, sipCallId: wacid, encryption: 'dtls' };
    } catch (error) {
      unfollow();
      if (error instanceof DialFailed && (error.outcome === 'declined' || error.outcome === 'no_answer'))
        metaEnded = true;
      if (leg && !metaEnded)
        void leg.hangup().catch((e: unknown) => log.warn({ err: e }, 'terminate failed'));
      if (session && !session.closed) void session.close('normal');
      if (error instanceof DialFailed) throw error;
      throw new DialFailed('media_error', null, (error as Error).message);
    }
  }

  /**
   * Resolves once the callee accepted with an answer applied; rejects with their refusal. The
   * answer may come before or after ACCEPTED: both are needed.
   */
  private untilAccepted(
    wacid: string,
    session: MediaSession,
    request: DialRequest,
    log: Logger,
    following: (stop: () => void) => void,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let answer: Promise<unknown> | undefined;
      let accepted = false;
      let rang = false;
      session.once('closed', () =>
        reject(new DialFailed('media_error', null, 'the media session ended while dialing')),
      );
      const done = (): void => {
        if (accepted && answer) answer.then(() => resolve(), reject);
      };
      following(
        this.deps.graph.follow(wacid, (event) => {
          if (event.event === 'connect' && event.session?.type === 'answer' && !answer) {
            answer = session.applyRemoteAnswer(event.session.sdp).catch((error: unknown) => {
              throw new DialFailed('media_error', null, `the callee's answer: ${(error as Error).message}`);
            });
            done();
          } else if (event.event === 'status' && event.status === 'RINGING' && !rang) {
            rang = true;
            request.onRinging?.();
            void updateCallStatus(this.deps.rooms, request, 'ringing', log);
          } else if (event.event === 'status' && event.status === 'ACCEPTED') {
            accepted = true;
            if (!answer) log.info('ACCEPTED before the answer: waiting for it');
            done();
          } else if (event.event === 'status' && event.status === 'REJECTED') {
            reject(new DialFailed('declined', null, 'the callee rejected the call', 'REJECTED'));
          } else if (event.event === 'terminate') {
            reject(
              new DialFailed(
                'no_answer',
                null,
                'the call ended before it was answered',
                event.status ?? null,
              ),
            );
          }
        }),
      );
    });
  }
}

/** connect, with Meta's no-permission error told apart from other failures. */
async function connect(api: GraphApi, to: string, offer: string): Promise<string> {
  try {
    return await api.connect(to, offer);
  } catch (error) {
    if (error instanceof GraphApiError && error.code === NO_CALL_PERMISSION)
      throw new DialFailed(
        'declined',
        error.status,
        'the callee gave no call permission',
        'whatsapp_no_permission',
      );
    // The provider's status and words are kept on the call (sipStatus, sipReason).
    const status = error instanceof GraphApiError ? error.status : null;
    throw new DialFailed('provider_error', status, (error as Error).message, (error as Error).message);
  }
}

/** The dial's outcome: accepted, or given up (abort) or out of time (ring timeout). */
function raceAbortAndTimeout(
  answered: Promise<void>,
  request: DialRequest,
): Promise<'accepted' | 'canceled' | 'ring_timeout'> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish('ring_timeout'), request.ringTimeoutMs);
    const onAbort = (): void => finish('canceled');
    const finish = (outcome: 'canceled' | 'ring_timeout'): void => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) onAbort();
    answered.then(
      () => {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        resolve('accepted');
      },
      (error: unknown) => {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
