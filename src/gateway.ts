import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type AdmissionGate, DRAIN_RETRY_AFTER_SECONDS, type DrainGate } from './calls/admission.js';
import { CallCommands } from './calls/callCommands.js';
import { CallMetrics } from './calls/callMetrics.js';
import { CallQualityBook } from './calls/callQuality.js';
import { CallRecordings } from './calls/callRecordings.js';
import { CallRegistry } from './calls/callRegistry.js';
import { CallService } from './calls/callService.js';
import { CallStore } from './calls/callStore.js';
import type { CallQuality } from './calls/callTypes.js';
import { ClusterCalls } from './calls/cluster/clusterCalls.js';
import { AudioPrompts, playbackSettings } from './calls/flow/audio/audioPrompts.js';
import { CallFlows } from './calls/flow/callFlows.js';
import { InboundAnswer } from './calls/inbound/inboundAnswer.js';
import { InboundCalls } from './calls/inbound/inboundCalls.js';
import { Voicemail } from './calls/inbound/voicemail.js';
import { GraphDialer } from './calls/outbound/graphDialer.js';
import { OutboundCalls } from './calls/outbound/outboundCalls.js';
import { OutboundDialer } from './calls/outbound/outboundDialer.js';
import { RestartRecovery } from './calls/restartRecovery.js';
import { RoomPresence } from './calls/roomPresence.js';
import { CallTransfers } from './calls/transfer/callTransfers.js';
import { ClusterNode } from './cluster/clusterNode.js';
import type { ClusterConfig } from './config/clusterSchema.js';
import type { GatewayConfig } from './config/schema.js';
import { ApiKeyRing } from './control/auth/apiKeys.js';
import { anyOf, ConsoleSessions } from './control/auth/consoleSessions.js';
import { CallForwarder } from './control/callForwarding.js';
import { consoleDirs } from './control/consoleFiles.js';
import { CallCommandHandler } from './control/events/callCommandHandler.js';
import { ControlPlaneEvents } from './control/events/controlPlaneEvents.js';
import { eventSchemaRoutes } from './control/events/eventSchemaRoutes.js';
import { createHttpServer } from './control/httpServer.js';
import { callCommandRoutes } from './control/routes/callCommandRoutes.js';
import { callCreateRoutes } from './control/routes/callCreateRoutes.js';
import { callingConfigRoutes } from './control/routes/callingConfigRoutes.js';
import { callRoutes } from './control/routes/callRoutes.js';
import { CallStreams, callStreamRoutes } from './control/routes/callStreamRoutes.js';
import { callTokenRoutes } from './control/routes/callTokenRoutes.js';
import { consoleRoutes } from './control/routes/consoleRoutes.js';
import { consoleSessionRoutes } from './control/routes/consoleSessionRoutes.js';
import { healthRoutes } from './control/routes/healthRoutes.js';
import { metricsRoutes } from './control/routes/metricsRoutes.js';
import { recordingRoutes } from './control/routes/recordingRoutes.js';
import { sipRoutingRoutes } from './control/routes/sipRoutingRoutes.js';
import { trunkRegistrationRoutes } from './control/routes/trunkRegistrationRoutes.js';
import { whatsappWebhookRoutes } from './control/routes/whatsappWebhookRoutes.js';
import { CallRooms } from './livekit/callRooms.js';
import { LiveKitTokens } from './livekit/liveKitTokens.js';
import { livekitProbe } from './livekit/livekitProbe.js';
import { WorkerPool } from './media/workers/WorkerPool.js';
import { workerPoolOptionsFromConfig } from './media/workers/workerPoolConfig.js';
import { type CpuTimes, HostCpu } from './observability/hostCpu.js';
import { Metrics } from './observability/metricsRegistry.js';
import { Readiness } from './observability/readiness.js';
import { DrachtioConnection } from './signalling/drachtioConnection.js';
import { GraphCalls } from './signalling/graph/graphCalls.js';
import { WhatsAppSettingsSync } from './signalling/graph/whatsappSettingsSync.js';
import { DigestAuthenticator } from './signalling/inbound/digestAuth.js';
import { InboundInvites } from './signalling/inbound/inboundInvites.js';
import { NumberRouter } from './signalling/inbound/numberRouter.js';
import { TrunkMatcher } from './signalling/inbound/trunkMatcher.js';
import { answerOptions } from './signalling/optionsProbe.js';
import { OrphanedLegs } from './signalling/orphanedLegs.js';
import { OutboundTrunks } from './signalling/outbound/outboundTrunks.js';
import type { RegistrationTiming } from './signalling/registration/registrationTypes.js';
import { TrunkRegistrar } from './signalling/registration/trunkRegistrar.js';
import { SipRouting } from './signalling/routing/sipRouting.js';
import type { SessionTimerSettings } from './signalling/sessionTimers/sessionTimerRules.js';
import { SipLegJournal } from './signalling/sipLegJournal.js';
import { srfCalls } from './signalling/srfAdapters.js';
import { srfLegActions } from './signalling/srfLegActions.js';
import { TrunkMediaPolicies } from './signalling/trunkMedia.js';
import { WhatsAppNumbers } from './signalling/whatsappNumbers.js';
import { CallingConfigStore } from './store/callingConfigStore.js';
import { Database } from './store/database.js';
import { LivenessStore } from './store/livenessStore.js';
import { LOCAL_NODE } from './store/localNode.js';
import { openStore } from './store/openStore.js';
import { RecordingStore } from './store/recordingStore.js';
import { RoutingStore } from './store/routingStore.js';
import { SharedConfigRefresh } from './store/sharedConfigRefresh.js';
import { SipLegStore } from './store/sipLegStore.js';
import type { SqlStore } from './store/sql/sqlTypes.js';
import { WebhookEventStore } from './store/webhookEventStore.js';
import { WriteBacklog } from './store/writeBacklog.js';

/** Store writes waiting uncommitted past which new calls are refused (a few seconds of a busy node). */
const MAX_PENDING_WRITES = 2000;
/** How soon a node sees configuration (calling, routing) another node's API changed. */
const SHARED_CONFIG_REFRESH_MS = 2000;

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  version: string;
  now?: () => Date;
  /** The compiled media worker entry (`workerEntryPath(RTP_WORKER_ENTRY)` in production). */
  mediaWorkerEntry: string;
  /** Reads the machine's CPU times; os.cpus() by default (tests make a machine busy this way). */
  cpuTimes?: () => CpuTimes;
  /** Overrides of the trunk registrations' timers (tests shorten refresh floors and backoff). */
  registrationTiming?: Partial<RegistrationTiming>;
  /**
   * Tests only: a Min-SE below the RFC's 90 s (configuration cannot go under it), so a session
   * timer runs out within a test.
   */
  sessionTimerMinSeSeconds?: number;
  /** The store, already open (Gateway.open opens the one config names); SQLite from config when absent. */
  store?: SqlStore;
}

/**
 * The gateway's parts, built from config and wired together, and nothing else: each part owns
 * its own behaviour. `main.ts` owns the process (arguments, signals, exit codes); this class owns
 * the parts, so tests can run a whole gateway in-process and stop it again.
 */
export class Gateway {
  readonly database: SqlStore;
  readonly metrics = new Metrics();
  readonly readiness = new Readiness();
  readonly http: FastifyInstance;
  readonly sip: DrachtioConnection;
  /** The control-plane event channel; the call layer appends to `events.outbox` and checks `events.canAcceptWork()`. */
  readonly events: ControlPlaneEvents;
  readonly calls: CallService;
  /** Every live call, one object each. */
  readonly registry: CallRegistry;
  readonly media: WorkerPool;
  /** The machine's CPU, which admits new calls (media.maxCpuUtilization). */
  readonly cpu: HostCpu;
  /** WhatsApp Graph-mode calls: their webhooks and the legs they keep by wacid. */
  readonly graph: GraphCalls;
  /** Outbound registrations of the trunks that need them (sip.trunks[].registration). */
  readonly registrations: TrunkRegistrar;
  /** Trunks, numbers and apps in force: the config file's and the routing API's (stored), live. */
  readonly routing: SipRouting;
  /** Every app's calling configuration, held in memory for calls (loaded by start). */
  private readonly callingConfigs: CallingConfigStore;
  /** Other nodes' changes to shared configuration, read again (a store several nodes share). */
  private readonly sharedConfig: SharedConfigRefresh | undefined;
  /** Open call feeds (the console's), ended when the gateway stops. */
  private readonly callStreams = new CallStreams();
  private readonly commandHandler: CallCommandHandler;
  private readonly recovery: RestartRecovery;
  /** This node's part in a cluster (cluster configured); undefined for a single node. */
  readonly cluster: ClusterCalls | undefined;
  private readonly logger: Logger;
  private readonly config: GatewayConfig;
  readonly nodeId: string;
  private stopping: Promise<void> | undefined;
  private started = false;

  /** Opens the store config names (SQLite, or PostgreSQL: a network round trip) and builds the gateway on it. */
  static async open(deps: GatewayDeps): Promise<Gateway> {
    const store =
      deps.store ?? (await openStore(deps.config.store, deps.logger.child({ component: 'store' })));
    return new Gateway({ ...deps, store });
  }

  constructor(deps: GatewayDeps) {
    const { config, logger } = deps;
    const now = deps.now ?? (() => new Date());
    const child = (component: string) => logger.child({ component });
    this.config = config;
    this.logger = logger;
    // What this node's rows are marked with on a store several nodes share.
    this.nodeId = config.cluster?.nodeId ?? LOCAL_NODE;
    this.database =
      deps.store ??
      new Database({
        path: config.store.path,
        synchronous: config.store.synchronous,
        logger: child('store'),
      });
    const keys = new ApiKeyRing(config.auth.keys);
    if (keys.size === 0) logger.warn('no API keys configured: every endpoint but health answers 401');
    const consoleSessions = new ConsoleSessions({ now });

    this.sip = new DrachtioConnection(config.sip.drachtio, child('sip'));
    const srf = srfCalls(this.sip.srf);
    this.registrations = new TrunkRegistrar({
      send: srf.request,
      whenReady: () => this.sip.whenConnected(),
      logger: child('registration'),
      metrics: this.metrics.registry,
      now,
      ...(deps.registrationTiming ? { timing: deps.registrationTiming } : {}),
    });
    // Not a readiness probe on purpose: calls go on while the control plane is away; events wait.
    this.events = new ControlPlaneEvents({
      nodeId: this.nodeId,
      config: config.control,
      database: this.database,
      metrics: this.metrics,
      logger: child('events'),
      version: deps.version,
      now,
    });
    this.media = new WorkerPool(
      workerPoolOptionsFromConfig(config.media, {
        entryFile: deps.mediaWorkerEntry,
        bindAddress: config.media.bindAddress,
        advertisedAddress: config.media.advertisedAddress,
        recording: { dir: config.recording.dir },
        logger: child('media'),
        // rtc-node logs at debug level unless NODE_ENV is production: keep workers at info.
        env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production' },
      }),
    );
    this.readiness.add({
      name: 'storage',
      check: async () => (await this.database.ping()) || 'database is closed',
    });
    this.readiness.add(livekitProbe(config.livekit));
    this.readiness.add(this.sip.probe());
    this.readiness.add(this.registrations.probe());
    this.readiness.add(this.media.probe());
    this.cpu = new HostCpu({
      maxUtilization: config.media.maxCpuUtilization,
      ...(deps.cpuTimes ? { read: deps.cpuTimes } : {}),
    });
    this.readiness.add(this.cpu.probe());
    this.metrics.gauge(
      'host_cpu_utilization',
      "Share of the machine's CPU in use (0-1, averaged)",
      () => this.cpu.utilization,
    );
    this.metrics.gauge('sip_connected', 'Whether the SIP server connection is up (1) or not (0)', () =>
      Number(this.sip.isConnected),
    );

    const callingConfigs = new CallingConfigStore(this.database);
    this.callingConfigs = callingConfigs;
    this.sharedConfig =
      this.database.dialect === 'postgres'
        ? new SharedConfigRefresh(
            [
              { name: 'calling configurations', refresh: () => callingConfigs.refresh() },
              { name: 'SIP routing', refresh: () => this.routing.refresh() },
            ],
            SHARED_CONFIG_REFRESH_MS,
            child('store'),
          )
        : undefined;
    this.routing = new SipRouting({
      config: config.sip,
      store: new RoutingStore(this.database),
      logger: child('routing'),
      now,
    });
    const routing = this.routing;
    const routingLog = child('routing');
    // Registrations follow trunk changes once started (start() syncs the first time).
    routing.onChange((view) => {
      if (this.started) this.registrations.sync(view.trunks);
    });
    // Set by the stop: from then on new calls and OPTIONS probes are turned away.
    const drain: DrainGate = { draining: () => this.readiness.isDraining };
    const callStore = new CallStore(this.database, this.nodeId);
    // Each answered call's leg quality: on the call, in its stream, in the per-call histograms.
    // Quality and recordings belong to calls CallService carries, and CallService reports both:
    // each side reaches the other through these closures, set once this.calls exists.
    const calls = {
      get: (id: string) => this.calls.get(id),
      find: (id: string) => this.calls.find(id),
      keepQuality: (id: string, figures: CallQuality) => this.calls.keepQuality(id, figures),
    };
    const quality = new CallQualityBook({ calls, logger: child('calls'), now });
    const recordings = new CallRecordings({
      store: new RecordingStore(this.database, this.nodeId),
      calls,
      events: this.events.callEvents(),
      logger: child('recordings'),
      now,
    });
    this.calls = new CallService({
      store: callStore,
      quality,
      presence: new RoomPresence(),
      events: this.events.callEvents(),
      logger: child('calls'),
      now,
      recordings,
    });
    this.registry = new CallRegistry(this.calls, child('calls'), quality);
    new CallMetrics({
      registry: this.metrics.registry,
      calls: this.calls,
      live: () => this.calls.liveByStatus(),
      phases: () => this.registry.countByPhase(),
      workers: () => this.media.workers(),
      quality,
    });
    const rooms = new CallRooms(config.livekit);
    const legStore = new SipLegStore(this.database, this.nodeId);
    const journal = new SipLegJournal(legStore, child('sip-legs'), now);
    this.recovery = new RestartRecovery({
      calls: this.calls,
      orphanedLegs: new OrphanedLegs(legStore, srfLegActions(this.sip.srf), child('recovery')),
      journal,
      liveness: new LivenessStore(this.database, this.nodeId),
      rooms,
      recordings,
      logger: child('recovery'),
      now,
    });

    // Outbound SIP legs: a call's own (POST /v1/calls) and a call flow's bridge verb.
    const dialer = new OutboundDialer({
      trunks: new OutboundTrunks(() => routing.view()),
      invite: srf.createUac,
      media: this.media,
      rooms,
      logger: child('outbound'),
      legs: journal,
      sessionTimers: sessionTimerSettings(config.sip.sessionTimers, deps.sessionTimerMinSeSeconds),
    });
    // Call transfer by REFER, both ways: the transfer action and verb, and REFERs from the far
    // end of a trunk with allowTransfer (dialled through the app's trunk into the call's room).
    const transfers = new CallTransfers({
      calls: this.calls,
      registry: this.registry,
      dialer,
      trunks: new OutboundTrunks(() => routing.view()),
      allowsTransfer: (name) =>
        routing.view().trunks.some((trunk) => trunk.name === name && trunk.allowTransfer === true),
      ringTimeoutSeconds: config.sip.ringTimeoutSeconds,
      logger: child('transfer'),
    });
    transfers.watch();
    // One cache of decoded prompts for call flows and voicemail greetings.
    const audio = new AudioPrompts(playbackSettings(config), child('playback'));
    const flows = new CallFlows({
      calls: this.calls,
      registry: this.registry,
      callingConfigs,
      audio,
      dialer,
      ringTimeoutSeconds: config.sip.ringTimeoutSeconds,
      logger: child('flow'),
      transfers,
    });
    this.cluster = config.cluster ? this.clusterCalls(config.cluster, { rooms, now, child }) : undefined;
    const cluster = this.cluster;
    // New calls wait for room in the outbox and for the store to keep up with writes.
    const backlog = new WriteBacklog(this.database, MAX_PENDING_WRITES, child('store'));
    const admission: AdmissionGate = {
      canAcceptWork: () => this.events.canAcceptWork() && backlog.canAcceptWork(),
    };
    const commands = new CallCommands(this.calls, this.registry, flows, transfers);
    this.commandHandler = new CallCommandHandler(this.calls, commands);
    const whatsappNumbers = new WhatsAppNumbers(config.sip.whatsapp.numbers);
    const trunkMedia = new TrunkMediaPolicies(() => routing.view().trunks, whatsappNumbers);
    const inboundCalls = new InboundCalls({
      calls: this.calls,
      registry: this.registry,
      callingConfigs,
      admission,
      ...(cluster ? { cluster } : {}),
      drain,
      cpu: this.cpu,
      media: this.media,
      answer: new InboundAnswer({
        calls: this.calls,
        media: this.media,
        rooms,
        callingConfigs,
        trunkMedia,
        logger: child('answer'),
        maxDurationSeconds: config.calls.maxDurationSeconds,
      }),
      voicemail: new Voicemail({
        calls: this.calls,
        media: this.media,
        audio,
        trunkMedia,
        logger: child('voicemail'),
      }),
      ringTimeoutMs: config.sip.ringTimeoutSeconds * 1000,
      logger: child('inbound'),
    });
    const inbound = new InboundInvites({
      trunks: new TrunkMatcher(() => routing.view().trunks),
      numbers: new NumberRouter(() => routing.view().numbers),
      whatsapp: whatsappNumbers,
      digest: new DigestAuthenticator(),
      calls: inboundCalls,
      createUas: srf.createUas,
      journal,
      sessionTimers: sessionTimerSettings(config.sip.sessionTimers, deps.sessionTimerMinSeSeconds),
      logger: child('inbound'),
    });
    srf.onInvite((req, res) => inbound.handle(req, res));
    srf.onOptions(answerOptions(drain, DRAIN_RETRY_AFTER_SECONDS));
    // WhatsApp Graph mode: calls come as webhooks, and go to the same inbound call pipeline.
    this.graph = new GraphCalls({
      numbers: config.whatsapp.graph.numbers,
      events: new WebhookEventStore(this.database),
      calls: inboundCalls,
      logger: child('whatsapp-graph'),
      now,
    });
    const graph = this.graph;
    const outbound = new OutboundCalls({
      calls: this.calls,
      registry: this.registry,
      callingConfigs,
      admission,
      ...(cluster ? { cluster } : {}),
      drain,
      cpu: this.cpu,
      dialer,
      graphDialer: new GraphDialer({ graph, media: this.media, rooms, logger: child('outbound') }),
      rooms,
      logger: child('outbound'),
      defaultRingTimeoutSeconds: config.sip.ringTimeoutSeconds,
      defaultMaxDurationSeconds: config.calls.maxDurationSeconds,
      webrtcPollIntervalMs: 1000,
    });

    this.http = createHttpServer({
      logger,
      keys: anyOf(keys, consoleSessions),
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
          whatsapp: new WhatsAppSettingsSync({
            numbers: () => graph.numbers(),
            sip: { sipOf: (number) => whatsappNumbers.get(number) },
            sipPort: config.whatsapp.sipPort,
            logger: child('whatsapp-graph'),
          }),
        }),
        ...callRoutes({ calls: this.calls, store: callStore }),
        ...recordingRoutes({ recordings }),
        ...callStreamRoutes({
          calls: this.calls,
          store: callStore,
          streams: this.callStreams,
          quality,
          recordings,
        }),
        ...consoleRoutes({ ...consoleDirs(), livekitUrl: config.livekit.url }),
        ...consoleSessionRoutes({ sessions: consoleSessions }),
        ...callCreateRoutes({ outbound }),
        ...callCommandRoutes({
          calls: this.calls,
          commands,
          ...(cluster
            ? {
                forwarder: new CallForwarder({
                  owners: cluster.node.ownership,
                  nodeId: this.nodeId,
                  logger: child('cluster'),
                }),
              }
            : {}),
        }),
        ...callTokenRoutes({
          calls: this.calls,
          tokens: new LiveKitTokens(config.livekit),
          livekitUrl: config.livekit.url,
          now,
        }),
        ...eventSchemaRoutes(),
        ...whatsappWebhookRoutes({ graph, logger: child('whatsapp-graph') }),
        ...trunkRegistrationRoutes({
          registrations: this.registrations,
          hasTrunk: (name) => routing.trunkEntry(name) !== undefined,
        }),
        ...sipRoutingRoutes({
          routing,
          registrations: this.registrations,
          // Reported once applied: what changed, never a secret.
          onChange: ({ event, ...sip }) => {
            routingLog.info({ event, ...sip }, 'routing changed');
            this.events.outbox.appendSip({ event, data: { sip } });
          },
        }),
      ],
    });
  }

  /**
   * This node's cluster parts (Redis lease, admission, ownership) and what it needs to take over
   * a dead node: that node's calls, SIP legs, recordings and event stream over the shared store.
   */
  private clusterCalls(
    config: ClusterConfig,
    parts: { rooms: CallRooms; now: () => Date; child: (component: string) => Logger },
  ): ClusterCalls {
    const { rooms, now, child } = parts;
    const logger = child('cluster');
    // Set below: the lease tells of a takeover, and the calls it ended are let go here.
    let onLeaseLost: () => void = () => undefined;
    const node = new ClusterNode({
      config,
      logger,
      registry: this.metrics.registry,
      onLeaseLost: () => onLeaseLost(),
    });
    const cluster = new ClusterCalls({
      node,
      calls: this.calls,
      closeLocally: (callId, why) => this.registry.get(callId)?.close(why),
      leaseMs: config.leaseMs,
      logger,
      partsOf: async (nodeId) => {
        const stream = await this.events.streamOf(nodeId);
        const log = logger.child({ deadNode: nodeId });
        const calls: CallService = new CallService({
          store: new CallStore(this.database, nodeId),
          events: stream.events,
          logger: log,
          now,
        });
        const legs = new OrphanedLegs(
          new SipLegStore(this.database, nodeId),
          srfLegActions(this.sip.srf),
          log,
        );
        const recordings = new CallRecordings({
          store: new RecordingStore(this.database, nodeId),
          calls: { get: (id) => calls.get(id), find: (id) => calls.find(id) },
          events: stream.events,
          logger: log,
          now,
        });
        return {
          calls,
          orphanedLegs: legs,
          rooms,
          recordings,
          logger: log,
          endLegs: (left) => legs.end(left),
          lastAlive: () => new LivenessStore(this.database, nodeId).lastAlive(),
          deliverStream: () => stream.deliver(),
        };
      },
    });
    onLeaseLost = () => cluster.relinquishAll();
    return cluster;
  }

  /** Starts listening; resolves to the base URL actually bound (port 0 picks a free one). */
  async start(): Promise<string> {
    const { host, port } = this.config.http;
    // What calls read without waiting on the database: loaded before the first call.
    await Promise.all([this.callingConfigs.load(), this.routing.load()]);
    this.sharedConfig?.start();
    // The outbox's depth and last ack, before anything appends.
    await this.events.open();
    // Before this process makes calls of its own: what the previous one left.
    const endOrphanLegs = await this.recovery.recover();
    // A cluster node takes its lease (and lets go of what its previous run held) before any call.
    await this.cluster?.start();
    await this.media.start();
    this.cpu.start();
    this.sip.start();
    void this.sip.whenConnected().then(endOrphanLegs);
    // Reported at once; their REGISTERs go out once the SIP server is connected.
    this.started = true;
    this.registrations.sync(this.routing.view().trunks);
    this.events.start(this.commandHandler);
    const address = await this.http.listen({ host, port });
    this.logger.info({ address, schemaVersion: this.database.schemaVersion }, 'gateway listening');
    return address;
  }

  /**
   * Stops taking work, ends live calls (up to http.shutdownTimeoutMs), lets requests in flight
   * finish (as long again), then closes storage with a checkpoint. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const graceMs = this.config.http.shutdownTimeoutMs;
    this.readiness.startDraining();
    // Carriers stop sending calls here first; bounded by its own timeout, awaited before the SIP
    // connection closes.
    const unregistered = this.registrations.stop();
    // Draining: new calls are refused (503) while live ones go on, up to drainTimeoutMs.
    const { drainTimeoutMs } = this.config.http;
    if (drainTimeoutMs > 0 && this.registry.size > 0) {
      this.logger.info({ liveCalls: this.registry.size, drainTimeoutMs }, 'draining: live calls may finish');
      await this.registry.drained(drainTimeoutMs);
    }
    this.callStreams.endAll();
    this.recovery.stop();
    this.sharedConfig?.stop();
    // Live calls are ended while the SIP connection is still up, then media stops.
    await this.registry.shutdown(graceMs);
    // Its calls ended and their slots released: the lease goes, peers see this node gone.
    await this.cluster
      ?.stop()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'cluster stop failed'));
    await this.media.close();
    this.cpu.stop();
    const deadline = setTimeout(() => {
      this.logger.warn({ timeoutMs: graceMs }, 'requests still in flight; closing them');
      this.http.server.closeAllConnections();
    }, graceMs);
    try {
      await this.http.close();
    } finally {
      await unregistered;
      this.sip.stop();
      clearTimeout(deadline);
      await this.events.stop();
      await this.database.close();
    }
    this.logger.info('gateway stopped');
  }
}

/** sip.sessionTimers as the rules take them, with a test's Min-SE below the RFC's where given. */
function sessionTimerSettings(
  config: GatewayConfig['sip']['sessionTimers'],
  testMinSe: number | undefined,
): SessionTimerSettings | undefined {
  if (!config.enabled) return undefined;
  return {
    expiresSeconds: config.expiresSeconds,
    minSeSeconds: testMinSe ?? config.minSeSeconds,
    refreshMethod: config.refreshMethod,
  };
}
