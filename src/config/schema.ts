import { z } from 'zod';
import { APP_ID_PATTERN } from './appIds.js';
import { clusterSchema } from './clusterSchema.js';
import { sipSchema } from './sipSchema.js';
import { whatsappSchema } from './whatsappGraphSchema.js';

/**
 * The gateway's configuration. Every value the process reads from outside comes through here,
 * so a typo or a bad value stops start-up with the key named instead of failing mid-call.
 * Objects are strict: an unknown key is a mistake (usually a typo), not something to ignore.
 */

export { APP_ID_PATTERN } from './appIds.js';

/** API keys are long random secrets; a short one is a configuration mistake, not a convenience. */
const MIN_KEY_LENGTH = 32;

const adminKey = z.strictObject({
  key: z.string().startsWith('sk_admin_', 'admin keys start with sk_admin_').min(MIN_KEY_LENGTH),
  role: z.literal('admin'),
});

const metricsKey = z.strictObject({
  key: z.string().startsWith('sk_metrics_', 'metrics keys start with sk_metrics_').min(MIN_KEY_LENGTH),
  role: z.literal('metrics'),
});

const appKey = z
  .strictObject({
    key: z
      .string()
      .regex(/^sk_(live|test)_app_/, 'app keys start with sk_live_app_ or sk_test_app_')
      .min(MIN_KEY_LENGTH),
    role: z.literal('app'),
    appId: z.string().regex(APP_ID_PATTERN, 'an app id: app_[test_] and 27 alphanumerics'),
  })
  .refine((k) => k.key.startsWith('sk_test_app_') === k.appId.startsWith('app_test_'), {
    message: 'sk_test_app_ keys belong to app_test_ apps and sk_live_app_ keys to live apps',
    path: ['appId'],
  });

export const apiKeySchema = z.discriminatedUnion('role', [adminKey, metricsKey, appKey]);

const port = z.int().min(1).max(65535);
/** The longest a call may be allowed to last, in config and per call: one day. */
export const MAX_CALL_SECONDS = 86_400;
const portOrZero = z.int().min(0).max(65535);

export const configSchema = z
  .strictObject({
    organization: z.strictObject({
      /** The organisation this gateway serves; stamped on every resource it returns. */
      id: z.string().regex(/^org_[0-9A-Za-z_]{1,64}$/, 'org_ followed by letters, digits or _'),
    }),
    http: z.strictObject({
      host: z.string().min(1),
      /** 0 picks a free port (tests); the bound port is logged. */
      port: portOrZero,
      /** How long shutdown waits for in-flight requests before closing them. */
      shutdownTimeoutMs: z.int().min(0).max(120_000),
      /**
       * On SIGTERM, how long live calls may go on before they are ended: meanwhile new calls get 503
       * (INVITE and POST /v1/calls) and OPTIONS probes 503, so a proxy sends calls elsewhere. 0: end
       * them at once (a single node with nowhere else for calls to go).
       */
      drainTimeoutMs: z.int().min(0).max(3_600_000).default(0),
      bodyLimitBytes: z.int().min(1024).max(10_485_760),
    }),
    log: z.strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
      /** auto: pretty when stdout is a terminal, JSON otherwise (containers, CI, log shippers). */
      format: z.enum(['auto', 'json', 'pretty']),
    }),
    auth: z.strictObject({
      keys: z.array(apiKeySchema).refine((keys) => new Set(keys.map((k) => k.key)).size === keys.length, {
        message: 'each key may appear only once',
      }),
    }),
    store: z
      .strictObject({
        /** sqlite: the embedded file at `path` (one node). postgres: the database at `url`, shared by nodes. */
        kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
        path: z.string().min(1),
        /**
         * full: every commit is fsynced (survives power loss). normal: survives a process crash
         * (kill -9) but the last commits may be lost on power loss. WAL mode either way. SQLite only.
         */
        synchronous: z.enum(['full', 'normal']),
        /** postgres://user:password@host:port/database (PostgreSQL only; never logged). */
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
          .nullable()
          .default(null),
        /** Connections this node keeps to PostgreSQL (reads, and its one writer). */
        poolSize: z.int().min(2).max(100).default(8),
        /** A statement running longer is cancelled (a write is then retried). */
        statementTimeoutMs: z.int().min(100).max(600_000).default(10_000),
      })
      .refine((s) => s.kind !== 'postgres' || s.url !== null, {
        message: 'store.kind postgres needs store.url',
        path: ['url'],
      }),
    sip: sipSchema,
    media: z
      .strictObject({
        rtpPortMin: port,
        rtpPortMax: port,
        /** 0 = one worker per core. */
        workers: z.int().min(0).max(256),
        /**
         * Calls one worker carries at most. rtc-node's cost per frame grows with the calls in one
         * process, so past this a new call is refused (503) rather than degrade the worker's others.
         */
        maxSessionsPerWorker: z.int().min(1).max(10_000),
        /**
         * Above this share of the machine's CPU (0–1, averaged over a few seconds) new calls are
         * refused with 503 and Retry-After, and /readyz is not ready; 1 never refuses.
         */
        maxCpuUtilization: z.number().gt(0).max(1),
        /**
         * When set, each media worker runs under V8's CPU profiler and writes a .cpuprofile here as
         * it exits: where a worker's CPU goes under real load (bench/media uses it).
         */
        workerProfileDir: z.string().min(1).nullable(),
        codecs: z.array(z.enum(['PCMU', 'PCMA', 'G722', 'opus', 'telephone-event'])).min(1),
        timeoutInitialSeconds: z.int().min(1).max(3600),
        timeoutSeconds: z.int().min(1).max(3600),
        /** Where RTP sockets bind, and the address put in our SDP (what callers send media to). */
        bindAddress: z.union([z.ipv4(), z.ipv6()]),
        advertisedAddress: z.union([z.ipv4(), z.ipv6()]),
        /** Audio that call flows play (playback, say): fetched, decoded with ffmpeg, cached. */
        playback: z.strictObject({
          /** Decoded audio by URL hash; null: `playback-cache` beside store.path. */
          cacheDir: z.string().min(1).nullable(),
          /** The cache is trimmed (least recently used first) to this size. */
          cacheMaxBytes: z.int().min(1_048_576),
          /** Local folders whose files a playback may name; none: only http(s) URLs. */
          fileDirs: z.array(z.string().min(1)),
          maxDownloadBytes: z.int().min(1024).max(1_073_741_824),
          downloadTimeoutMs: z.int().min(100).max(600_000),
          /** Whether URLs on loopback, private or link-local addresses may be fetched. */
          allowPrivateAddresses: z.boolean(),
          /** Longer audio is cut here. */
          maxDurationSeconds: z.int().min(1).max(1800),
        }),
      })
      .refine((m) => m.rtpPortMin < m.rtpPortMax, {
        message: 'rtpPortMin must be below rtpPortMax',
        path: ['rtpPortMax'],
      }),
    livekit: z.strictObject({
      url: z.url({ protocol: /^(wss?|https?)$/ }),
      apiKey: z.string().min(1),
      apiSecret: z.string().min(32, 'livekit-server requires secrets of at least 32 characters'),
    }),
    control: z
      .strictObject({
        /** The control plane's WebSocket; null turns the event channel off (the outbox still records). */
        url: z.url({ protocol: /^wss?$/ }).nullable(),
        /** Sent as `Authorization: Bearer <token>` when dialling `url`. */
        token: z.string().min(1).nullable(),
        /** Reconnect delay after a failed or lost connection: doubles from min up to max, with jitter. */
        reconnectMinMs: z.int().min(10).max(60_000),
        reconnectMaxMs: z.int().min(10).max(600_000),
        /** Events sent but not yet acked, at most: bounds what a slow control plane has in flight. */
        sendWindow: z.int().min(1).max(100_000),
        /** How long acked events stay in the outbox (for inspection and replay) before pruning. */
        ackedRetentionSeconds: z
          .int()
          .min(0)
          .max(30 * 86_400),
        /** Unacked events at which new calls are refused rather than dropping events. */
        outboxMaxDepth: z.int().min(1).max(10_000_000),
      })
      .refine((c) => c.reconnectMinMs <= c.reconnectMaxMs, {
        message: 'reconnectMinMs must not exceed reconnectMaxMs',
        path: ['reconnectMaxMs'],
      })
      .refine((c) => c.url === null || c.token !== null, {
        message: 'a control plane url needs a token',
        path: ['token'],
      }),
    recording: z.strictObject({
      dir: z.string().min(1),
    }),
    calls: z.strictObject({
      /** Answered calls end with endReason max_duration after this long (a call may set its own). */
      maxDurationSeconds: z.int().min(1).max(MAX_CALL_SECONDS),
    }),
    whatsapp: whatsappSchema,
    /** Several nodes sharing Redis (clusterSchema.ts); null or absent: a single node. */
    cluster: clusterSchema.nullable().default(null),
  })
  // A node takes over another's calls from the store they share: an embedded file is no one's but its own.
  .refine((config) => config.cluster === null || config.store.kind === 'postgres', {
    message: 'a cluster node needs store.kind postgres (the store every node shares)',
    path: ['cluster'],
  });

export type GatewayConfig = z.infer<typeof configSchema>;
export type ApiKeyConfig = z.infer<typeof apiKeySchema>;
