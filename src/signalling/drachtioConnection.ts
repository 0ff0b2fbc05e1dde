import Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { ReadinessProbe } from '../observability/readiness.js';

export interface DrachtioServerAddress {
  host: string;
  port: number;
  secret: string;
}

const RECONNECT_MAX_DELAY_MS = 2000;

/** The parts of srf's internal WireProtocol that stopping a retry loop needs. */
interface RetryingWire {
  closing: boolean;
  reconnectVars?: { retryTimer?: NodeJS.Timeout | null };
  socket?: { destroy(): void };
}

/**
 * The gateway's connection to its SIP server (the embedded engine or a drachtio-server): one
 * drachtio-srf instance in inbound mode. srf reconnects by itself after a loss; this class keeps
 * the state that readiness and metrics report, and owns the srf instance call handling builds on.
 */
export class DrachtioConnection {
  readonly srf = new Srf();
  private connected = false;
  private lastProblem = 'not connected yet';
  private readonly onConnect: (() => void)[] = [];

  constructor(
    private readonly address: DrachtioServerAddress,
    private readonly logger: Logger,
  ) {
    const where = { host: address.host, port: address.port };
    this.srf.on('connect', (error: Error | null, hostport: string) => {
      if (error) {
        this.connected = false;
        this.lastProblem = error.message;
        this.logger.error({ ...where, err: error }, 'SIP server refused the connection');
        return;
      }
      this.connected = true;
      this.logger.info({ ...where, hostport }, 'connected to SIP server');
      for (const resolve of this.onConnect.splice(0)) resolve();
    });
    // srf emits these from its socket layer; without an 'error' listener a refused connection
    // would be an uncaught exception instead of a retry.
    this.srf.on('error', (error: Error) => {
      this.lastProblem = error.message;
      this.logger.warn({ ...where, err: error.message }, 'SIP server connection error');
    });
    (this.srf as unknown as NodeJS.EventEmitter).on('close', () => {
      if (this.connected) this.logger.warn(where, 'lost the SIP server connection; reconnecting');
      this.connected = false;
      this.lastProblem = 'connection closed';
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Resolves once the connection is up (at once if it is). */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.onConnect.push(resolve));
  }

  /** Starts connecting; resolves at once, since srf keeps retrying until the server is there. */
  start(): void {
    this.srf.connect({
      host: this.address.host,
      port: this.address.port,
      secret: this.address.secret,
      // srf's backoff grows without bound unless capped; a SIP server back after an outage should
      // see the gateway again within seconds.
      reconnect: { retryMaxDelay: RECONNECT_MAX_DELAY_MS },
    } as Parameters<Srf['connect']>[0]);
  }

  stop(): void {
    if (this.connected) {
      this.connected = false;
      this.srf.disconnect();
      return;
    }
    // srf.disconnect() asserts on a missing socket while srf is still retrying, and srf has no
    // public way to stop retrying: end the retry loop through its wire-protocol object.
    const wire = (this.srf as unknown as { app?: { wp?: RetryingWire } }).app?.wp;
    if (!wire) return;
    wire.closing = true;
    if (wire.reconnectVars?.retryTimer) clearTimeout(wire.reconnectVars.retryTimer);
    wire.socket?.destroy();
  }

  probe(): ReadinessProbe {
    return {
      name: 'sip',
      check: () =>
        this.connected ||
        `no connection to the SIP server at ${this.address.host}:${this.address.port}: ${this.lastProblem}`,
    };
  }
}
