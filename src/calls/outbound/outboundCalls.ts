import type { Logger } from 'pino';
import { CPU_RETRY_AFTER_SECONDS } from '../../observability/hostCpu.js';
import {
  type AdmissionGate,
  DRAIN_RETRY_AFTER_SECONDS,
  type DrainGate,
  type LoadGate,
} from '../admission.js';
import { autoRecordFormat, type CallSettingsSource } from '../autoRecording.js';
import { PlaceCallError } from '../callErrors.js';
import type { CallRegistry } from '../callRegistry.js';
import { type CallService, newCallId } from '../callService.js';
import type { NewCall } from '../callServiceTypes.js';
import type { Call, CallChannel } from '../callTypes.js';
import type { ClusterAdmit } from '../cluster/clusterCalls.js';
import type { GraphDialer } from './graphDialer.js';
import { OutboundCall } from './outboundCall.js';
import type { OutboundDialer } from './outboundDialer.js';
import { type RoomPresence, WebrtcCall } from './webrtcCall.js';

/** An app's request for a call (POST /v1/calls), validated. */
export interface PlaceCallRequest {
  appId: string;
  from: string;
  to: string;
  fromChannel: CallChannel;
  toChannel: CallChannel;
  metadata: Record<string, unknown>;
  ringTimeoutSeconds?: number | undefined;
  maxDurationSeconds?: number | undefined;
}

export interface OutboundCallsDeps {
  calls: CallService;
  /** The app's settings: maxConcurrentCalls, autoRecordEnabled and recordingFormat. */
  callingConfigs: CallSettingsSource;
  admission: AdmissionGate;
  /** Cluster-wide maxConcurrentCalls (cluster configured); absent: this node's count alone. */
  cluster?: ClusterAdmit;
  /** A draining gateway places no new call; absent: never draining. */
  drain?: DrainGate;
  /** The machine's CPU: a saturated one places no new call. */
  cpu: LoadGate;
  /** Dials PSTN legs, and WhatsApp legs over SIP. */
  dialer: OutboundDialer;
  /** Dials WhatsApp calls of Graph-mode apps. */
  graphDialer: GraphDialer;
  rooms: RoomPresence & { roomNameFor(callId: string): string };
  registry: CallRegistry;
  logger: Logger;
  /** sip.ringTimeoutSeconds, unless the request sets its own. */
  defaultRingTimeoutSeconds: number;
  /** calls.maxDurationSeconds, unless the request sets its own. */
  defaultMaxDurationSeconds: number;
  /** How often a webrtc callee's room is looked at. */
  webrtcPollIntervalMs: number;
}

/**
 * Places the calls apps ask for: checks that the call can go out (channel, trunk, media plane,
 * event outbox, the app's maxConcurrentCalls counted across both directions), records it as
 * initiated with its room, and starts it: a PSTN leg through the app's trunk (OutboundCall) or a
 * browser callee in the room (WebrtcCall). The call is returned as created; its progress arrives
 * as events and in GET /v1/calls/{id}.
 */
export class OutboundCalls {
  constructor(private readonly deps: OutboundCallsDeps) {}

  /** Takes a slot of the app's cluster-wide limit, then creates the call; undefined at the limit. */
  private async admitInCluster(
    cluster: ClusterAdmit,
    input: NewCall,
    limit: number,
  ): Promise<Call | undefined> {
    const id = newCallId(input.appId);
    const outcome = await cluster.admit(input.appId, id, limit);
    if (outcome === 'unavailable') {
      throw new PlaceCallError(
        'overloaded',
        'the cluster cannot count the app’s calls right now; try again',
        5,
      );
    }
    return outcome === 'admitted' ? this.deps.calls.create({ ...input, id }) : undefined;
  }

  async place(request: PlaceCallRequest): Promise<Call> {
    const { deps } = this;
    // From a Graph number, in Graph mode; anything else is judged as a call over SIP.
    const graph =
      request.toChannel === 'whatsapp' &&
      this.isGraphMode(request.appId) &&
      deps.graphDialer.canDial(request.appId, request.from);
    if (graph) await this.checkGraph(request);
    else if (request.toChannel === 'whatsapp') this.checkWhatsApp(request);
    if (request.toChannel === 'pstn' && !deps.dialer.canDial(request.appId)) {
      throw new PlaceCallError(
        'no_outbound_trunk',
        `app ${request.appId} has no outbound trunk for PSTN calls (config sip.apps, or PATCH /v1/organization/apps/{appId}/sip)`,
      );
    }
    if (deps.drain?.draining()) {
      throw new PlaceCallError(
        'overloaded',
        'the gateway is draining (shutting down); place the call on another node',
        DRAIN_RETRY_AFTER_SECONDS,
      );
    }
    if (!deps.admission.canAcceptWork()) {
      throw new PlaceCallError('overloaded', 'the gateway cannot record more call events right now');
    }
    if (deps.cpu.overloaded()) {
      throw new PlaceCallError(
        'overloaded',
        'the machine is above media.maxCpuUtilization; try again later',
        CPU_RETRY_AFTER_SECONDS,
      );
    }
    const limit = deps.callingConfigs.settingsFor(request.appId).maxConcurrentCalls;
    const input: NewCall = {
      appId: request.appId,
      direction: 'outbound',
      fromAddress: request.from,
      toAddress: request.to,
      fromChannel: request.fromChannel,
      toChannel: request.toChannel,
      metadata: request.metadata,
      // The room is the call's from the start (calls.initiated names it), so a webrtc caller
      // can have a token at once.
      roomFor: (id) => deps.rooms.roomNameFor(id),
    };
    const created = deps.cluster
      ? await this.admitInCluster(deps.cluster, input, limit)
      : deps.calls.createWithin(input, limit);
    if (!created) {
      throw new PlaceCallError(
        'concurrency_limit',
        `app ${request.appId} has ${limit} live calls (maxConcurrentCalls)`,
      );
    }
    const roomName = created.livekitRoomName ?? deps.rooms.roomNameFor(created.id);
    const call: Call = { ...created, livekitRoomName: roomName };
    const ringTimeoutMs = (request.ringTimeoutSeconds ?? deps.defaultRingTimeoutSeconds) * 1000;
    const maxDurationMs = (request.maxDurationSeconds ?? deps.defaultMaxDurationSeconds) * 1000;
    deps.logger.info(
      { callId: call.id, appId: call.appId, toChannel: call.toChannel, fromChannel: call.fromChannel },
      'outbound call',
    );
    const live = deps.registry.open(call);
    if (request.toChannel === 'pstn' || request.toChannel === 'whatsapp') {
      new OutboundCall(
        call,
        live,
        {
          calls: deps.calls,
          dialer: graph ? deps.graphDialer : deps.dialer,
          rooms: deps.rooms,
          logger: deps.logger,
        },
        { ringTimeoutMs, maxDurationMs, recordFormat: autoRecordFormat(deps.callingConfigs, call.appId) },
      ).start();
    } else {
      new WebrtcCall(
        call,
        live,
        { calls: deps.calls, rooms: deps.rooms, logger: deps.logger },
        { ringTimeoutMs, maxDurationMs, pollIntervalMs: deps.webrtcPollIntervalMs },
      ).start();
    }
    return call;
  }

  /** WhatsApp calling on with SIP off is Meta's Graph mode: calls go out as Cloud API actions. */
  private isGraphMode(appId: string): boolean {
    const settings = this.deps.callingConfigs.settingsFor(appId);
    return settings.whatsappCallingEnabled && !settings.whatsappSipEnabled;
  }

  /**
   * A Graph-mode call (from one of the app's whatsapp.graph.numbers) goes only to a user who gave
   * the business call permission: Meta refuses the rest (138006), and a business
   * that keeps calling without it loses the right to ask.
   */
  private async checkGraph(request: PlaceCallRequest): Promise<void> {
    const dialer = this.deps.graphDialer;
    let allowed: boolean;
    try {
      allowed = await dialer.mayCall(request.appId, request.from, request.to);
    } catch (error) {
      throw new PlaceCallError(
        'provider_error',
        `call permission of ${request.to}: ${(error as Error).message}`,
      );
    }
    if (!allowed) {
      throw new PlaceCallError(
        'whatsapp_no_permission',
        `${request.to} has not given ${request.from} permission to call (call_permissions)`,
      );
    }
  }

  /**
   * A WhatsApp call goes out over SIP only for an app with both settings on (calling on with SIP
   * off is Meta's Graph mode), from one of its business numbers (sip.whatsapp.numbers).
   */
  private checkWhatsApp(request: PlaceCallRequest): void {
    const settings = this.deps.callingConfigs.settingsFor(request.appId);
    for (const setting of ['whatsappCallingEnabled', 'whatsappSipEnabled'] as const) {
      if (!settings[setting]) {
        throw new PlaceCallError(
          'whatsapp_not_enabled',
          setting === 'whatsappSipEnabled'
            ? `app ${request.appId} has whatsappSipEnabled off: WhatsApp calls over SIP need whatsappCallingEnabled and whatsappSipEnabled, and in Graph mode ${request.from} is not one of the app's whatsapp.graph.numbers`
            : `app ${request.appId} has ${setting} off: WhatsApp calls over SIP need whatsappCallingEnabled and whatsappSipEnabled`,
        );
      }
    }
    if (!this.deps.dialer.canDialWhatsApp(request.appId, request.from)) {
      throw new PlaceCallError(
        'no_outbound_trunk',
        `${request.from} is not a WhatsApp business number of app ${request.appId} with an outbound edge (sip.whatsapp.numbers)`,
      );
    }
  }
}
