/**
 * Process entry of the embedded SIP engine: `node dist/sip/engine/main.js <drachtio-server options>`.
 * Binds the SIP transports and the admin port, runs the core, logs JSON lines to stdout, and exits 0
 * on SIGTERM/SIGINT after closing its listeners.
 */
import { readFileSync } from 'node:fs';
import { AppListener } from './apps/AppListener.js';
import { AppRegistry } from './apps/AppRegistry.js';
import { formatHostports, type ListenHostport } from './apps/hostports.js';
import { EngineArgsError } from './cli/engineArgsError.js';
import type { EngineOptions } from './cli/engineOptionsTypes.js';
import { parseEngineArgs } from './cli/parseEngineArgs.js';
import { ENGINE_USAGE } from './cli/usage.js';
import { SipEngine } from './core/engine.js';
import { createEngineLogger } from './engineLogger.js';
import { createEngineMetrics } from './metrics/engineMetrics.js';
import { MetricsServer } from './metrics/metricsServer.js';
import { TransportLayer } from './transport/transportLayer.js';
import type { ListenContact, TransportLayerOptions } from './transport/transportTypes.js';

const ENGINE_VERSION = '0.1.0';

function listenContacts(options: EngineOptions): ListenContact[] {
  const out: ListenContact[] = [];
  for (const c of options.contacts) {
    const host = c.host === '*' ? '0.0.0.0' : c.host;
    for (const transport of c.transports) {
      const lc: ListenContact = { transport, host, port: c.port };
      if (c.externalIp !== undefined) lc.advertisedHost = c.externalIp;
      out.push(lc);
    }
  }
  return out;
}

function transportOptions(options: EngineOptions): TransportLayerOptions {
  const { keyFile, certFile, chainFile } = options.tls;
  if (keyFile === undefined || certFile === undefined) return {};
  const tls: NonNullable<TransportLayerOptions['tls']> = {
    key: readFileSync(keyFile),
    cert: readFileSync(certFile),
  };
  if (chainFile !== undefined) tls.chain = readFileSync(chainFile);
  return { tls };
}

async function run(argv: string[]): Promise<void> {
  let options: EngineOptions;
  try {
    options = parseEngineArgs(argv);
  } catch (err) {
    if (!(err instanceof EngineArgsError)) throw err;
    process.stderr.write(`sip-server: ${err.message}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(ENGINE_USAGE);
    return;
  }
  if (options.version) {
    process.stdout.write(`sip-engine ${ENGINE_VERSION}\n`);
    return;
  }
  const logger = createEngineLogger(options.logLevel);
  for (const warning of options.warnings) logger.warn({}, warning);

  const transport = new TransportLayer(transportOptions(options));
  const bound = await transport.listen(listenContacts(options));
  const registry = new AppRegistry();
  const engine = new SipEngine({ transport, registry, logger });
  engine.start();
  const hostports = (): string[] =>
    formatHostports(
      transport.boundListeners().map((b) => {
        const h: ListenHostport = { protocol: b.transport, host: b.host, port: b.port };
        if (b.advertisedHost !== undefined) h.externalIp = b.advertisedHost;
        return h;
      }),
    );
  const admin = new AppListener({
    address: options.admin.address,
    port: options.admin.port,
    secret: options.secret,
    registry,
    hostports,
    logger,
  });
  const adminAddress = await admin.listen();

  let metrics: MetricsServer | undefined;
  let metricsPort: number | undefined;
  if (options.prometheus) {
    metrics = new MetricsServer({
      address: options.prometheus.address,
      port: options.prometheus.port,
      registry: createEngineMetrics(engine),
      health: () => ({ ready: true, apps: engine.counts().apps, appsConnected: engine.hasApps() }),
    });
    metricsPort = (await metrics.listen()).port;
  }

  logger.info(
    {
      sip: bound.map((b) => ({ transport: b.transport, host: b.host, port: b.port })),
      hostports: hostports(),
      adminAddress: adminAddress.address,
      adminPort: adminAddress.port,
      ...(metricsPort !== undefined ? { metricsPort } : {}),
    },
    'sip engine ready',
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'sip engine stopping');
    void (async () => {
      engine.close();
      await Promise.all([admin.close(), transport.close(), metrics?.close()]);
      logger.info({}, 'sip engine stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

run(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`sip-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
