import type { Logger } from 'pino';
import type { GraphNumberConfig } from '../../config/whatsappGraphSchema.js';
import type { WebhookEventStore } from '../../store/webhookEventStore.js';
import type { InboundRoute } from '../inbound/inboundInvites.js';
import { GraphApi } from './graphApi.js';
import { GraphLeg } from './graphLeg.js';
import { GRAPH_TRUNK } from './graphTrunk.js';
import type { GraphCallEvent } from './graphWebhook.js';

/** Who takes the calls (the call layer's InboundCalls): refuses the leg itself when it may not. */
export interface GraphCallSink {
  offer(leg: GraphLeg, route: InboundRoute, log: Logger): string | undefined;
}

export interface GraphInboundDeps {
  numbers: readonly GraphNumberConfig[];
  events: WebhookEventStore;
  calls: GraphCallSink;
  logger: Logger;
  now: () => Date;
  fetch?: typeof fetch;
}

/**
 * The Graph-mode half of inbound calling: a signed webhook's call events become calls. A
 * user-initiated `connect` with the caller's SDP offer is a new leg for the number's app; a
 * `terminate` ends the leg it names. Each (wacid, event) acts once, however often Meta (or a
 * control plane relaying it) delivers it.
 */
export class GraphInbound {
  private readonly byPhoneNumberId = new Map<string, { config: GraphNumberConfig; api: GraphApi }>();
  private readonly legs = new Map<string, GraphLeg>();

  constructor(private readonly deps: GraphInboundDeps) {
    for (const config of deps.numbers) {
      this.byPhoneNumberId.set(config.phoneNumberId, { config, api: new GraphApi(config, deps.fetch) });
    }
  }

  /** The app secrets webhooks may be signed with. */
  get secrets(): string[] {
    return [...new Set(this.deps.numbers.map((number) => number.appSecret))];
  }

  /** Whether `token` is one a number's webhook registration uses (GET hub.verify_token). */
  verifies(token: string): boolean {
    return this.deps.numbers.some((number) => number.verifyToken === token);
  }

  /** Whether the number `phoneNumberId` is ours and its webhooks are signed with `secret`. */
  signedBy(phoneNumberId: string, secret: string): boolean {
    return this.byPhoneNumberId.get(phoneNumberId)?.config.appSecret === secret;
  }

  /** Live legs, for shutdown and tests. */
  get liveLegs(): number {
    return this.legs.size;
  }

  take(event: GraphCallEvent): void {
    const log = this.deps.logger.child({ wacid: event.wacid, event: event.event });
    const number = this.byPhoneNumberId.get(event.phoneNumberId);
    if (!number) {
      log.warn(
        { phoneNumberId: event.phoneNumberId },
        'webhook for a phone number id that is not configured',
      );
      return;
    }
    if (!this.deps.events.firstTime(event.wacid, event.event, this.deps.now().toISOString())) {
      log.info('webhook event already taken; ignored');
      return;
    }
    if (event.event === 'terminate') {
      this.terminate(event, log);
      return;
    }
    this.connect(event, number, log);
  }

  private connect(
    event: GraphCallEvent,
    number: { config: GraphNumberConfig; api: GraphApi },
    log: Logger,
  ): void {
    if (event.session?.type !== 'offer') {
      // A business-initiated call's answer: calls the business places are not built yet.
      log.warn({ direction: event.direction }, 'connect without an SDP offer is not handled');
      return;
    }
    const leg = new GraphLeg(event.wacid, event.session.sdp, number.api, log);
    this.legs.set(event.wacid, leg);
    leg.onCancel(() => this.legs.delete(event.wacid));
    leg.onEnded(() => this.legs.delete(event.wacid));
    const route: InboundRoute = {
      appId: number.config.appId,
      trunk: { name: GRAPH_TRUNK, kind: 'whatsapp' },
      via: 'graph',
      number: number.config.number,
      caller: callerAddress(event.from),
      sipCallId: null,
      whatsapp: { wacid: event.wacid, ...(event.from ? { userId: event.from } : {}) },
    };
    const callId = this.deps.calls.offer(leg, route, log);
    if (callId === undefined) this.legs.delete(event.wacid);
  }

  private terminate(event: GraphCallEvent, log: Logger): void {
    const leg = this.legs.get(event.wacid);
    if (!leg) {
      log.info({ status: event.status }, 'terminate for a call with no live leg (ended here first)');
      return;
    }
    this.legs.delete(event.wacid);
    leg.terminated({ durationSeconds: event.durationSeconds });
  }
}

/** Meta's `from` is the caller's WhatsApp id: digits of a phone number (shown as E.164), or a BSUID. */
function callerAddress(from: string | undefined): string | undefined {
  if (!from) return undefined;
  return /^[1-9][0-9]{6,14}$/.test(from) ? `+${from}` : from;
}
