import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/configError.js';
import { configFileFrom, loadConfig } from '../../src/config/loadConfig.js';
import { workerPoolOptionsFromConfig } from '../../src/media/workers/workerPoolConfig.js';

const dir = mkdtempSync(join(tmpdir(), 'config-test-'));
let files = 0;
function yamlFile(text: string): string {
  const path = join(dir, `config-${++files}.yaml`);
  writeFileSync(path, text);
  return path;
}

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('starts from config/default.yaml', () => {
    const config = loadConfig({ env: {} });
    expect(config.http.port).toBe(8080);
    expect(config.sip.engine).toBe('embedded');
    expect(config.store.synchronous).toBe('full');
    expect(config.auth.keys).toEqual([]);
  });

  it('merges a file over the defaults, section by section', () => {
    const file = yamlFile('http:\n  port: 9090\nstore:\n  path: /var/lib/gw.db\n');
    const config = loadConfig({ file, env: {} });
    expect(config.http).toMatchObject({ port: 9090, host: '127.0.0.1' });
    expect(config.store).toEqual({
      kind: 'sqlite',
      path: '/var/lib/gw.db',
      synchronous: 'full',
      url: null,
      poolSize: 8,
      statementTimeoutMs: 10_000,
    });
  });

  it('makes a cluster node only on a shared PostgreSQL store', () => {
    const cluster =
      'cluster:\n  redisUrl: redis://127.0.0.1:6379\n  nodeId: node-a\n  internalUrl: http://10.0.0.5:8080\n';
    expect(() => loadConfig({ file: yamlFile(cluster), env: {} })).toThrow(
      /cluster: a cluster node needs store.kind postgres/,
    );
    const ok = loadConfig({
      file: yamlFile(`${cluster}store:\n  kind: postgres\n  url: postgres://gw@db/gateway\n`),
      env: {},
    });
    expect(ok.cluster).toMatchObject({ nodeId: 'node-a', leaseMs: 10_000 });
  });

  it('takes a PostgreSQL store only with its url, and names the key otherwise', () => {
    const ok = loadConfig({
      file: yamlFile('store:\n  kind: postgres\n  url: postgres://gw:secret@db.internal:5432/gateway\n'),
      env: {},
    });
    expect(ok.store).toMatchObject({
      kind: 'postgres',
      url: 'postgres://gw:secret@db.internal:5432/gateway',
    });
    expect(() => loadConfig({ file: yamlFile('store:\n  kind: postgres\n'), env: {} })).toThrow(/store\.url/);
    expect(() =>
      loadConfig({ file: yamlFile('store:\n  kind: postgres\n  url: mysql://x\n'), env: {} }),
    ).toThrow(/store\.url/);
  });

  it('lets GATEWAY_<SECTION>__<KEY> override file and defaults, typed by JSON', () => {
    const file = yamlFile('http:\n  port: 9090\n');
    const config = loadConfig({
      file,
      env: {
        GATEWAY_HTTP__PORT: '7000',
        GATEWAY_STORE__PATH: '/tmp/x.db',
        GATEWAY_MEDIA__TIMEOUT_INITIAL_SECONDS: '45',
        GATEWAY_SIP__DRACHTIO__SECRET: 'shh',
        GATEWAY_AUTH__KEYS: JSON.stringify([{ key: `sk_admin_${'k'.repeat(32)}`, role: 'admin' }]),
        GATEWAY_CONFIG: '/ignored/here',
        GATEWAYISH: 'ignored',
      },
    });
    expect(config.http.port).toBe(7000);
    expect(config.store.path).toBe('/tmp/x.db');
    expect(config.media.timeoutInitialSeconds).toBe(45);
    expect(config.sip.drachtio.secret).toBe('shh');
    expect(config.auth.keys).toHaveLength(1);
  });

  it.each([
    [{ GATEWAY_HTTP__PORT: 'abc' }, /^http\.port: .*expected number.*got "abc"$/],
    [{ GATEWAY_HTTP__PORT: '70000' }, /^http\.port: .*<=65535/],
    [{ GATEWAY_LOG__LEVEL: 'loud' }, /^log\.level: .*got "loud"$/],
    [{ GATEWAY_HTTP__PROT: '1' }, /^GATEWAY_HTTP__PROT: there is no setting "prot" in http$/],
    [{ GATEWAY_NOPE__X: '1' }, /^GATEWAY_NOPE__X: there is no setting "nope" in the top level$/],
    [{ GATEWAY_LIVEKIT__API_SECRET: 'short' }, /^livekit\.apiSecret: .*32 characters$/],
    [{ GATEWAY_MEDIA__RTP_PORT_MIN: '30000' }, /^media\.rtpPortMax: rtpPortMin must be below rtpPortMax/],
    [{ GATEWAY_STORE__SYNCHRONOUS: 'off' }, /^store\.synchronous: /],
  ])('stops on %j with one line naming the key', (env, pattern) => {
    const message = errorOf(() => loadConfig({ env }));
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  });

  it('never echoes a secret value in an error', () => {
    const message = errorOf(() => loadConfig({ env: { GATEWAY_LIVEKIT__API_SECRET: 'hunter2' } }));
    expect(message).not.toContain('hunter2');
  });

  it.each([
    ['an unknown key', 'http:\n  prot: 1\n', /^http\.prot: unknown setting$/],
    ['an unknown section', 'htp:\n  port: 1\n', /^htp: unknown setting$/],
    ['a section that is not a mapping', 'http: 5\n', /^http: /],
    ['a list at the top', '- a\n- b\n', /must hold a mapping of sections/],
    ['invalid YAML', 'http: [1, 2\n', /is not valid YAML/],
    [
      'an admin key with an app prefix',
      `auth:\n  keys:\n    - { key: sk_live_app_${'x'.repeat(32)}, role: admin }\n`,
      /^auth\.keys\.0\.key: admin keys start with sk_admin_/,
    ],
    ['a short key', 'auth:\n  keys:\n    - { key: sk_admin_short, role: admin }\n', /^auth\.keys\.0\.key: /],
    [
      'a test key for a live app',
      `auth:\n  keys:\n    - { key: sk_test_app_${'x'.repeat(32)}, role: app, appId: app_${'a'.repeat(27)} }\n`,
      /^auth\.keys\.0\.appId: sk_test_app_ keys belong to app_test_ apps/,
    ],
    [
      'an app key without appId',
      `auth:\n  keys:\n    - { key: sk_live_app_${'x'.repeat(32)}, role: app }\n`,
      /^auth\.keys\.0\.appId: /,
    ],
    [
      'a duplicate key',
      `auth:\n  keys:\n    - { key: sk_admin_${'x'.repeat(32)}, role: admin }\n    - { key: sk_admin_${'x'.repeat(32)}, role: admin }\n`,
      /^auth\.keys: each key may appear only once$/,
    ],
  ])('stops on a file with %s', (_what, text, pattern) => {
    expect(errorOf(() => loadConfig({ file: yamlFile(text), env: {} }))).toMatch(pattern);
  });

  it('stops when the config file is missing', () => {
    expect(errorOf(() => loadConfig({ file: join(dir, 'absent.yaml'), env: {} }))).toMatch(
      /^cannot read config file .*absent\.yaml: ENOENT$/,
    );
  });

  it('treats an empty file as no changes', () => {
    expect(loadConfig({ file: yamlFile(''), env: {} }).http.port).toBe(8080);
  });
});

describe('configFileFrom', () => {
  it('takes --config FILE, --config=FILE, then GATEWAY_CONFIG', () => {
    expect(configFileFrom(['--config', 'a.yaml'], { GATEWAY_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(configFileFrom(['--config=c.yaml'], {})).toBe('c.yaml');
    expect(configFileFrom([], { GATEWAY_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(configFileFrom([], {})).toBeUndefined();
    expect(() => configFileFrom(['--config'], {})).toThrow(ConfigError);
  });
});

describe('control section (event channel)', () => {
  it('defaults to no control plane, with bounded reconnects, window, retention and outbox depth', () => {
    expect(loadConfig({ env: {} }).control).toEqual({
      url: null,
      token: null,
      reconnectMinMs: 500,
      reconnectMaxMs: 30000,
      sendWindow: 500,
      ackedRetentionSeconds: 86400,
      outboxMaxDepth: 100000,
    });
  });

  it.each([
    [{ GATEWAY_CONTROL__URL: 'http://cp.example' }, /^control\.url: /],
    [
      { GATEWAY_CONTROL__URL: 'wss://cp.example/gateway' },
      /^control\.token: a control plane url needs a token$/,
    ],
    [
      { GATEWAY_CONTROL__RECONNECT_MIN_MS: '60000' },
      /^control\.reconnectMaxMs: reconnectMinMs must not exceed/,
    ],
    [{ GATEWAY_CONTROL__SEND_WINDOW: '0' }, /^control\.sendWindow: /],
    [{ GATEWAY_CONTROL__OUTBOX_MAX_DEPTH: '0' }, /^control\.outboxMaxDepth: /],
  ])('stops on %j with one line naming the key', (env, pattern) => {
    expect(errorOf(() => loadConfig({ env }))).toMatch(pattern);
  });

  it('takes a wss url with its token', () => {
    const control = loadConfig({
      env: { GATEWAY_CONTROL__URL: 'wss://cp.example/gateway', GATEWAY_CONTROL__TOKEN: 'secret-token' },
    }).control;
    expect(control).toMatchObject({ url: 'wss://cp.example/gateway', token: 'secret-token' });
  });
});

describe('media section: calls per worker', () => {
  it('bounds each media worker to 40 calls by default, and the pool takes the bound from config', () => {
    const media = loadConfig({ env: {} }).media;
    expect(media.maxSessionsPerWorker).toBe(40);
    const options = workerPoolOptionsFromConfig(
      loadConfig({ env: { GATEWAY_MEDIA__MAX_SESSIONS_PER_WORKER: '12' } }).media,
      { entryFile: 'worker.js', bindAddress: '127.0.0.1', advertisedAddress: '127.0.0.1' },
    );
    expect(options).toMatchObject({ maxSessionsPerWorker: 12, workers: 0 });
  });

  it.each([
    [{ GATEWAY_MEDIA__MAX_SESSIONS_PER_WORKER: '0' }, /^media\.maxSessionsPerWorker: .*>=1/],
    [{ GATEWAY_MEDIA__MAX_SESSIONS_PER_WORKER: '2.5' }, /^media\.maxSessionsPerWorker: /],
    [{ GATEWAY_MEDIA__MAX_SESSIONS_PER_WORKER: 'many' }, /^media\.maxSessionsPerWorker: /],
  ])('stops on %j with one line naming the key', (env, pattern) => {
    expect(errorOf(() => loadConfig({ env }))).toMatch(pattern);
  });

  it('turns session timers on by default: 1800 s granted at most, Min-SE 90 s', () => {
    expect(loadConfig({ env: {} }).sip.sessionTimers).toEqual({
      enabled: true,
      expiresSeconds: 1800,
      minSeSeconds: 90,
      refreshMethod: 'update',
    });
    const file = yamlFile('sip:\n  sessionTimers:\n    enabled: false\n');
    expect(loadConfig({ file, env: {} }).sip.sessionTimers.enabled).toBe(false);
  });

  it.each([
    ['    minSeSeconds: 89\n', /^sip\.sessionTimers\.minSeSeconds: at least 90 \(RFC 4028\)/],
    ['    minSeSeconds: 90.5\n', /^sip\.sessionTimers\.minSeSeconds: /],
    ['    refreshMethod: options\n', /^sip\.sessionTimers\.refreshMethod: /],
    [
      '    expiresSeconds: 600\n    minSeSeconds: 900\n',
      /^sip\.sessionTimers\.minSeSeconds: minSeSeconds may not exceed expiresSeconds/,
    ],
  ])('refuses session timers %j with one line naming the key', (yaml, pattern) => {
    const file = yamlFile(`sip:\n  sessionTimers:\n${yaml}`);
    expect(errorOf(() => loadConfig({ file, env: {} }))).toMatch(pattern);
  });
});
