import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ActiveCalls } from './calls/activeCalls.js';
import { CallCommands } from './calls/callCommands.js';
import { CallService } from './calls/callService.js';
import { CallStore } from './calls/callStore.js';
import { AudioPrompts, playbackSettings } from './calls/flow/audio/audioPrompts.js';
import { CallFlows } from './calls/flow/callFlows.js';
import { InboundAnswer } from './calls/inboundAnswer.js';
import { OutboundCalls } from './calls/outboundCalls.js';
import { OutboundDialer } from './calls/outboundDialer.js';
import { Voicemail } from './calls/voicemail.js';
import type { GatewayConfig } from './config/schema.js';
import { ApiKeyRing } from './control/auth/apiKeys.js';
import { CallCommandHandler } from './control/events/callCommandHandler.js';
import { ControlPlaneEvents } from './control/events/controlPlaneEvents.js';
import { eventSchemaRoutes } from './control/events/eventSchemaRoutes.js';
import type { AppendInput } from './control/events/outboxTypes.js';
import { createHttpServer } from './control/httpServer.js';
import { callCommandRoutes } from './control/routes/callCommandRoutes.js';
import { callCreateRoutes } from './control/routes/callCreateRoutes.js';
import { callingConfigRoutes } from './control/routes/callingConfigRoutes.js';
import { callRoutes } from './control/routes/callRoutes.js';
import { callTokenRoutes } from './control/routes/callTokenRoutes.js';
import { healthRoutes } from './control/routes/healthRoutes.js';
import { metricsRoutes } from './control/routes/metricsRoutes.js';
import { CallRooms } from './livekit/callRooms.js';
import { LiveKitTokens } from './livekit/liveKitTokens.js';
import { livekitProbe } from './livekit/livekitProbe.js';
import { WorkerPool } from './media/workers/WorkerPool.js';
import { workerPoolOptionsFromConfig } from './media/workers/workerPoolConfig.js';
import { CallMetrics } from './observability/callMetrics.js';
import { Metrics } from './observability/metricsRegistry.js';
import { Readiness } from './observability/readiness.js';
import { DrachtioConnection } from './signalling/drachtioConnection.js';
import { DigestAuthenticator } from './signalling/inbound/digestAuth.js';
import { InboundInvites } from './signalling/inbound/inboundInvites.js';
import { NumberRouter } from './signalling/inbound/numberRouter.js';
import { PendingDecisions } from './signalling/inbound/pendingDecisions.js';
import { TrunkMatcher } from './signalling/inbound/trunkMatcher.js';
import { OrphanedLegs } from './signalling/orphanedLegs.js';
import { OutboundTrunks } from './signalling/outbound/outboundTrunks.js';
import type { OutboundDialog } from './signalling/outbound/uacInvite.js';
import { type RecordableDialog, SipLegJournal } from './signalling/sipLegJournal.js';
import { srfLegActions } from './signalling/srfLegActions.js';
import type { AnswerInvite, InboundRequest, InboundResponse, SipDialog } from './signalling/srfTypes.js';
import { CallingConfigStore, DEFAULT_CALLING_SETTINGS } from './store/callingConfigStore.js';
import { Database } from './store/database.js';
import { LivenessStore } from './store/livenessStore.js';
import { SipLegStore } from './store/sipLegStore.js';

/** How often the running gateway writes down that it is alive (the precision of a crash's time). */
const HEARTBEAT_MS = 1000;

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  version: string;
  now?: () => Date;
  /**
   * The compiled media worker entry. Without one the gateway runs no media plane: calls ring and
   * can be rejected or hung up, and answering them answers 501.
   */
  mediaWorkerEntry?: string;
}

/**
 * The gateway's parts, built from config and wired together. `main.ts` owns the process
 * (arguments, signals, exit codes); this class owns the parts, so tests can run a whole gateway
 * in-process and stop it again.
 */
export class Gateway {
  readonly database: Database;
  readonly metrics = new Metrics();
  readonly readiness = new Readiness();
  readonly http: FastifyInstance;
  readonly sip: DrachtioConnection;
  /** The control-plane event channel; the call layer appends to `events.outbox` and checks `events.canAcceptWork()`. */
  readonly events: ControlPlaneEvents;
  readonly calls: CallService;
  private readonly commandHandler: CallCommandHandler;
  /** Inbound calls ringing while they wait for an accept/reject action. */
  readonly decisions = new PendingDecisions();
  /** Answered calls, for hangup commands. */
  readonly active = new ActiveCalls();
  /** The media worker pool, when this gateway runs a media plane. */
  readonly media: WorkerPool | undefined;
  private readonly logger: Logger;
  private readonly config: GatewayConfig;
  private stopping: Promise<void> | undefined;
  private readonly legs: SipLegJournal;
  private readonly orphanedLegs: OrphanedLegs;
  private readonly liveness: LivenessStore;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly rooms: CallRooms;
  private readonly now: () => Date;

  constructor(deps: GatewayDeps) {
    const { config, logger } = deps;
    this.config = config;
    this.logger = logger;
    this.database = new Database({
      path: config.store.path,
      synchronous: config.store.synchronous,
      logger: logger.child({ component: 'store' }),
    });
    const keys = new ApiKeyRing(config.auth.keys);
    if (keys.size === 0) logger.warn('no API keys configured: every endpoint but health answers 401');

    this.readiness.add({ name: 'storage', check: () => this.database.ping() || 'database is closed' });
    this.readiness.add(livekitProbe(config.livekit));
    this.sip = new DrachtioConnection(config.sip.drachtio, logger.child({ component: 'sip' }));
    this.readiness.add(this.sip.probe());
    this.metrics.gauge('sip_connected', 'Whether the SIP server connection is up (1) or not (0)', () =>
      Number(this.sip.isConnected),
    );

    // Not a readiness probe on purpose: calls go on while the control plane is away; events wait.
    this.events = new ControlPlaneEvents({
      config: config.control,
      database: this.database,
      metrics: this.metrics,
      logger: logger.child({ component: 'events' }),
      version: deps.version,
      ...(deps.now ? { now: deps.now } : {}),
    });

    const now = deps.now ?? (() => new Date());
    this.now = now;
    this.liveness = new LivenessStore(this.database);
    const legStore = new SipLegStore(this.database);
    this.legs = new SipLegJournal(legStore, logger.child({ component: 'sip-legs' }), now);
    this.orphanedLegs = new OrphanedLegs(
      legStore,
      srfLegActions(this.sip.srf),
      logger.child({ component: 'recovery' }),
    );
    const callingConfigs = new CallingConfigStore(this.database);
    const callStore = new CallStore(this.database);
    this.calls = new CallService({
      store: callStore,
      // The outbox types its event names; the call layer emits exactly those (STATUS_EVENTS).
      events: { append: (event) => this.events.outbox.append(event as AppendInput) },
      logger: logger.child({ component: 'calls' }),
      now,
    });
    this.media = deps.mediaWorkerEntry
      ? new WorkerPool(
          workerPoolOptionsFromConfig(config.media, {
            entryFile: deps.mediaWorkerEntry,
            bindAddress: config.media.bindAddress,
            advertisedAddress: config.media.advertisedAddress,
            recording: { dir: config.recording.dir },
            logger: logger.child({ component: 'media' }),
            // rtc-node logs at debug level unless NODE_ENV is production: keep workers at info.
            env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production' },
          }),
        )
      : undefined;
    const pool = this.media;
    if (pool) {
      this.readiness.add({
        name: 'media',
        check: () =>
          pool.workers().some((worker) => worker.state === 'ready') || 'no media worker is running',
      });
    }
    new CallMetrics({
      registry: this.metrics.registry,
      calls: this.calls,
      live: () => callStore.liveByStatus(),
      ...(pool
        ? {
            workers: () =>
              pool.workers().map((w) => ({ worker: w.index, state: w.state, sessions: w.sessions })),
          }
        : {}),
    });
    const rooms = new CallRooms(config.livekit);
    this.rooms = rooms;
    // Every answered inbound leg (a call's or voicemail's) is written down with its dialog.
    const answerInvite: AnswerInvite = async (req, res, localSdp) => {
      const dialog = (await this.sip.srf.createUAS(req as never, res as never, {
        localSdp,
      })) as unknown as SipDialog & RecordableDialog;
      this.legs.answered(dialog);
      return dialog;
    };
    const autoRecordFormat = (appId: string) => {
      const settings = callingConfigs.get(appId) ?? DEFAULT_CALLING_SETTINGS;
      return settings.autoRecordEnabled ? settings.recordingFormat : null;
    };
    const answer = this.media
      ? new InboundAnswer({
          calls: this.calls,
          media: this.media,
          rooms,
          answer: answerInvite,
          active: this.active,
          logger: logger.child({ component: 'answer' }),
          maxDurationSeconds: config.calls.maxDurationSeconds,
          autoRecordFormat,
        })
      : undefined;
    // Outbound SIP legs: a call's own (POST /v1/calls) and, later, a call flow's bridge verb.
    const dialer = this.media
      ? new OutboundDialer({
          trunks: new OutboundTrunks(config.sip),
          invite: (uri, options, progress) =>
            this.sip.srf.createUAC(
              uri,
              options as never,
              progress as never,
            ) as unknown as Promise<OutboundDialog>,
          media: this.media,
          rooms,
          logger: logger.child({ component: 'outbound' }),
          legs: this.legs,
        })
      : undefined;
    const outbound = new OutboundCalls({
      calls: this.calls,
      maxConcurrentCalls: (appId) =>
        (callingConfigs.get(appId) ?? DEFAULT_CALLING_SETTINGS).maxConcurrentCalls,
      admission: this.events,
      dialer,
      rooms,
      active: this.active,
      logger: logger.child({ component: 'outbound' }),
      defaultRingTimeoutSeconds: config.sip.ringTimeoutSeconds,
      defaultMaxDurationSeconds: config.calls.maxDurationSeconds,
      autoRecordFormat,
      webrtcPollIntervalMs: 1000,
    });
    // One cache of decoded prompts for call flows and voicemail greetings.
    const audio = new AudioPrompts(playbackSettings(config), logger.child({ component: 'playback' }));
    const flows = this.media
      ? new CallFlows({
          calls: this.calls,
          decisions: this.decisions,
          active: this.active,
          audio,
          dialer,
          ringTimeoutSeconds: config.sip.ringTimeoutSeconds,
          recordingFormat: (appId) => (callingConfigs.get(appId) ?? DEFAULT_CALLING_SETTINGS).recordingFormat,
          logger: logger.child({ component: 'flow' }),
        })
      : undefined;
    const voicemail = this.media
      ? new Voicemail({
          calls: this.calls,
          media: this.media,
          answer: answerInvite,
          active: this.active,
          audio,
          logger: logger.child({ component: 'voicemail' }),
        })
      : undefined;
    const commands = new CallCommands(this.calls, this.decisions, this.active, flows);
    this.commandHandler = new CallCommandHandler(this.calls, commands);
    const inbound = new InboundInvites({
      trunks: new TrunkMatcher(config.sip.trunks),
      numbers: new NumberRouter(config.sip.numbers),
      digest: new DigestAuthenticator(),
      callingConfigs,
      calls: this.calls,
      admission: this.events,
      decisions: this.decisions,
      ringTimeoutMs: config.sip.ringTimeoutSeconds * 1000,
      logger: logger.child({ component: 'inbound' }),
      answer,
      voicemail,
      legs: this.legs,
    });
    this.sip.srf.invite((req, res) =>
      inbound.handle(req as unknown as InboundRequest, res as unknown as InboundResponse),
    );

    this.http = createHttpServer({
      logger,
      keys,
      metrics: this.metrics,
      version: deps.version,
      bodyLimitBytes: config.http.bodyLimitBytes,
      routes: [
        ...healthRoutes(this.readiness),
        ...metricsRoutes(this.metrics),
        ...callingConfigRoutes({
          store: callingConfigs,
          organizationId: config.organization.id,
          now,
        }),
        ...callRoutes({ calls: this.calls, store: callStore }),
        ...callCreateRoutes({ outbound }),
        ...callCommandRoutes({ calls: this.calls, commands }),
        ...callTokenRoutes({
          calls: this.calls,
          tokens: new LiveKitTokens(config.livekit),
          livekitUrl: config.livekit.url,
          now,
        }),
        ...eventSchemaRoutes(),
      ],
    });
  }

  /** Starts listening; resolves to the base URL actually bound (port 0 picks a free one). */
  async start(): Promise<string> {
    const { host, port } = this.config.http;
    // What an unclean stop left: legs to hang up once the SIP server is back, calls to close as
    // of the moment the previous process died. Read before this process makes calls of its own.
    const orphanLegs = this.orphanedLegs.find();
    const lastAlive = this.liveness.lastAlive();
    const orphans = this.calls.closeOrphans(lastAlive ? new Date(lastAlive) : undefined);
    if (orphans.length > 0 || orphanLegs.length > 0) {
      this.logger.warn(
        { calls: orphans.length, sipLegs: orphanLegs.length, lastAlive },
        'ended calls left live by an unclean stop',
      );
    }
    // Whoever is still in those calls' rooms (browsers) is talking to nobody: close the rooms.
    for (const call of orphans) {
      if (!call.livekitRoomName) continue;
      this.rooms
        .deleteRoom(call.livekitRoomName)
        .catch((error: unknown) =>
          this.logger.warn({ err: error, callId: call.id }, 'could not close the room of a call left live'),
        );
    }
    // From here on a call's legs are forgotten when it ends (the orphans' only once hung up).
    this.calls.on('transition', (call) => {
      if (call.endedAt) this.legs.ended(call.id);
    });
    const beat = () => this.liveness.beat(this.now().toISOString());
    beat();
    this.heartbeat = setInterval(beat, HEARTBEAT_MS);
    this.heartbeat.unref();
    await this.media?.start();
    this.sip.start();
    if (orphanLegs.length > 0) {
      void this.sip.whenConnected().then(() => this.orphanedLegs.end(orphanLegs));
    }
    this.events.start(this.commandHandler);
    const address = await this.http.listen({ host, port });
    this.logger.info({ address, schemaVersion: this.database.schemaVersion }, 'gateway listening');
    return address;
  }

  /**
   * Stops taking work, lets requests in flight finish (up to http.shutdownTimeoutMs), then closes
   * storage with a checkpoint. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.readiness.startDraining();
    clearInterval(this.heartbeat);
    for (const ringing of this.decisions.all()) ringing.shutdown();
    // Answered calls get their BYE while the SIP connection is still up, then media stops.
    // A far end that never answers its BYE must not hold the stop past the grace period.
    await Promise.race([
      Promise.all(this.active.all().map((call) => call.shutdown())),
      new Promise((resolve) => setTimeout(resolve, this.config.http.shutdownTimeoutMs).unref()),
    ]);
    await this.media?.close();
    const deadline = setTimeout(() => {
      this.logger.warn(
        { timeoutMs: this.config.http.shutdownTimeoutMs },
        'requests still in flight; closing them',
      );
      this.http.server.closeAllConnections();
    }, this.config.http.shutdownTimeoutMs);
    try {
      await this.http.close();
    } finally {
      this.sip.stop();
      clearTimeout(deadline);
      await this.events.stop();
      this.database.close();
    }
    this.logger.info('gateway stopped');
  }
}
