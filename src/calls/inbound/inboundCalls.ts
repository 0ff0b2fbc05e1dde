import type { Logger } from 'pino';
import { CPU_RETRY_AFTER_SECONDS } from '../../observability/hostCpu.js';
import type { InboundRoute } from '../../signalling/inbound/inboundInvites.js';
import type { CallingConfigStore } from '../../store/callingConfigStore.js';
import {
  type AdmissionGate,
  DRAIN_RETRY_AFTER_SECONDS,
  type DrainGate,
  type LoadGate,
} from '../admission.js';
import type { CallRegistry } from '../callRegistry.js';
import { type CallService, newCallId } from '../callService.js';
import type { NewCall } from '../callServiceTypes.js';
import type { Call } from '../callTypes.js';
import type { ClusterAdmit } from '../cluster/clusterCalls.js';
import type { IncomingLeg } from '../legs/callLeg.js';
import type { InboundAnswer, MediaSessions } from './inboundAnswer.js';
import { RingingCall } from './ringingCall.js';
import type { Voicemail } from './voicemail.js';

export interface InboundCallsDeps {
  calls: CallService;
  registry: CallRegistry;
  callingConfigs: CallingConfigStore;
  admission: AdmissionGate;
  /** Cluster-wide maxConcurrentCalls (cluster configured); absent: this node's count alone. */
  cluster?: ClusterAdmit;
  /** A draining gateway takes no new call; absent: never draining. */
  drain?: DrainGate;
  /** The machine's CPU: a saturated one takes no new call. */
  cpu: LoadGate;
  media: Pick<MediaSessions, 'hasCapacity'>;
  answer: InboundAnswer;
  voicemail: Voicemail;
  ringTimeoutMs: number;
  logger: Logger;
}

/**
 * Takes the calls signalling routed to an app: may the app take it (WhatsApp enabled, below
 * maxConcurrentCalls, the gateway able to record its events, the machine not saturated, a media
 * worker with room)? Then the
 * call exists (initiated), is live in the registry, and rings (RingingCall) until it is decided.
 * Each refusal is one final response with a Reason header, and a log line.
 */
export class InboundCalls {
  constructor(private readonly deps: InboundCallsDeps) {}

  /** Resolves to the new call's id, or undefined when the leg was refused (or gave up meanwhile). */
  async offer(leg: IncomingLeg, route: InboundRoute, log: Logger): Promise<string | undefined> {
    const { deps } = this;
    const settings = deps.callingConfigs.settingsFor(route.appId);
    if (route.trunk.kind === 'whatsapp' && !settings.whatsappCallingEnabled) {
      leg.refuse(403, 'WhatsApp calling is not enabled for this app (whatsappCallingEnabled)');
      return undefined;
    }
    if (route.via === 'graph' && settings.whatsappSipEnabled) {
      // SIP on: Meta sends this number's calls by SIP, and Graph call actions stop working.
      leg.refuse(403, 'WhatsApp calls of this app come over SIP (whatsappSipEnabled)');
      return undefined;
    }
    if (route.trunk.kind === 'whatsapp' && route.via !== 'graph' && !settings.whatsappSipEnabled) {
      // Calling on, SIP off is Meta's Graph mode: its calls come through the Cloud API, not SIP.
      leg.refuse(403, 'WhatsApp over SIP is not enabled for this app (whatsappSipEnabled)');
      return undefined;
    }
    if (deps.drain?.draining()) {
      log.info('refusing a call: the gateway is draining');
      leg.refuse(503, 'gateway draining', { 'Retry-After': String(DRAIN_RETRY_AFTER_SECONDS) });
      return undefined;
    }
    if (!deps.admission.canAcceptWork()) {
      log.warn('refusing a call: the gateway cannot record more events right now');
      leg.refuse(503, 'gateway overloaded', { 'Retry-After': '30' });
      return undefined;
    }
    if (deps.cpu.overloaded()) {
      log.warn('refusing a call: the machine is above media.maxCpuUtilization');
      leg.refuse(503, 'cpu overloaded', { 'Retry-After': String(CPU_RETRY_AFTER_SECONDS) });
      return undefined;
    }
    if (!deps.media.hasCapacity()) {
      log.warn('refusing a call: every media worker is at media.maxSessionsPerWorker');
      leg.refuse(503, 'no media capacity', { 'Retry-After': '5' });
      return undefined;
    }
    const input: NewCall = {
      appId: route.appId,
      direction: 'inbound',
      fromAddress: route.caller ?? 'anonymous',
      toAddress: route.number,
      fromChannel: route.trunk.kind,
      toChannel: 'webrtc',
      metadata: {
        trunk: route.trunk.name,
        ...(route.whatsapp ? { whatsapp: route.whatsapp } : {}),
      },
      sipCallId: route.sipCallId,
    };
    const call = deps.cluster
      ? await this.admitInCluster(deps.cluster, leg, input, settings.maxConcurrentCalls, log)
      : deps.calls.createWithin(input, settings.maxConcurrentCalls);
    if (call === 'refused') return undefined;
    if (!call) {
      log.info(
        { appId: route.appId, limit: settings.maxConcurrentCalls },
        'refusing a call: app at maxConcurrentCalls',
      );
      leg.refuse(486, 'app reached maxConcurrentCalls');
      return undefined;
    }
    log.info({ callId: call.id, appId: route.appId, trunk: route.trunk.name }, 'inbound call');
    leg.belongsTo(call.id);
    const live = deps.registry.open(call);
    new RingingCall(call, live, leg, {
      calls: deps.calls,
      ringTimeoutMs: deps.ringTimeoutMs,
      logger: log,
      answer: deps.answer,
      voicemail: deps.voicemail,
      voicemailSettings: settings.voicemailEnabled
        ? {
            greetingUrl: settings.voicemailGreetingUrl,
            maxDurationSeconds: settings.voicemailMaxDuration,
            format: settings.recordingFormat,
          }
        : null,
      voicemailFirst: settings.defaultAnswerBehavior === 'voicemail',
    }).start();
    return call.id;
  }

  /**
   * Takes a slot of the app's cluster-wide limit, then creates the call. Redis answers in a
   * round trip, in which the caller may give up: then the slot goes back and nothing is created.
   */
  private async admitInCluster(
    cluster: ClusterAdmit,
    leg: IncomingLeg,
    input: NewCall,
    limit: number,
    log: Logger,
  ): Promise<Call | undefined | 'refused'> {
    let canceled = false;
    leg.onCancel(() => {
      canceled = true;
    });
    const id = newCallId(input.appId);
    const outcome = await cluster.admit(input.appId, id, limit);
    if (outcome === 'limit') return undefined;
    if (outcome === 'unavailable') {
      log.warn('refusing a call: the cluster cannot count its app’s calls right now');
      leg.refuse(503, 'cluster unavailable', { 'Retry-After': '5' });
      return 'refused';
    }
    if (canceled) {
      cluster.release(input.appId, id);
      log.info('the caller gave up while the call was admitted');
      return 'refused';
    }
    return this.deps.calls.create({ ...input, id });
  }
}
