import { createDtlsCertificate } from '../dtls/dtlsCertificate.js';
import type { DtlsCertificate } from '../dtls/dtlsTypes.js';
import type { CreateSessionParams, CreateSessionResult } from '../workers/mediaChannelTypes.js';
import type { WorkerContext } from '../workers/sessionHandlerTypes.js';
import { FrameClock } from './frameClock.js';
import { PcmFiles } from './pcmFiles.js';
import { RtpMediaSession } from './RtpMediaSession.js';
import type { RtpSessionHandlerOptions } from './rtpSessionHandlerTypes.js';
import { SessionRegistry } from './SessionRegistry.js';
import { SessionCommandRouter } from './sessionCommandRouter.js';

const DEFAULT_RTCP_INTERVAL_MS = 5_000;
const DISPOSE_TIMEOUT_MS = 2_000;

/**
 * The media bridge of one worker process: RTP legs to SIP peers joined to LiveKit rooms, one
 * RtpMediaSession per call, all driven by one shared 20 ms clock.
 */
export class RtpSessionHandler extends SessionCommandRouter<RtpMediaSession> {
  private readonly clock: FrameClock;
  private readonly pcmFiles = new PcmFiles();
  /** One certificate per worker (RFC 8827 allows sharing it); made when a DTLS call first needs it. */
  private certificate: Promise<DtlsCertificate> | null = null;

  constructor(
    private readonly context: WorkerContext,
    private readonly options: RtpSessionHandlerOptions,
  ) {
    super(
      new SessionRegistry(context, {
        logger: options.logger,
        certificate: () => this.workerCertificate(),
      }),
    );
    this.clock = new FrameClock({
      onError: (error) => options.logger.error({ err: error }, 'media clock listener threw'),
    });
  }

  createSession(params: CreateSessionParams): Promise<CreateSessionResult> {
    const { init } = this.context;
    return this.sessions.create(
      params,
      (parts) =>
        new RtpMediaSession({
          ...parts,
          clock: this.clock,
          events: this.context.events,
          bridges: this.options.bridges,
          rtcpIntervalMs: this.options.rtcpIntervalMs ?? DEFAULT_RTCP_INTERVAL_MS,
          ...(this.options.statsIntervalMs ? { statsIntervalMs: this.options.statsIntervalMs } : {}),
          logger: this.options.logger,
          pcmFiles: this.pcmFiles,
          ...(this.options.secureMediaTimers ? { secureTimers: this.options.secureMediaTimers } : {}),
          ...(init.recording ? { recording: init.recording } : {}),
          onEnded: (ended, reason, message) => this.sessions.ended(ended.id, reason, message),
        }),
    );
  }

  private workerCertificate(): Promise<DtlsCertificate> {
    const made =
      this.certificate ??
      createDtlsCertificate().catch((error: unknown) => {
        // The next DTLS call tries again rather than inheriting this failure.
        this.certificate = null;
        throw error;
      });
    this.certificate = made;
    return made;
  }

  async shutdown(): Promise<number> {
    const closed = await this.sessions.closeAll();
    this.clock.stop();
    await withTimeout(this.options.bridges.dispose(), DISPOSE_TIMEOUT_MS).catch((error: unknown) =>
      this.options.logger.warn({ err: error }, 'disposing the LiveKit client failed'),
    );
    return closed;
  }
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
