import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/loadConfig.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { bearer, KEYS } from '../support/testKeys.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dockerDir = join(root, 'docker');

interface ComposeService {
  build?: { context: string; dockerfile: string };
  volumes?: string[];
  environment?: Record<string, string>;
}

const compose = parseYaml(readFileSync(join(dockerDir, 'compose.yaml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};

/** A compose file's environment with its ${VARIABLES} filled as .env would fill them. */
function filledEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [
      key,
      value
        .replace(/\$\{GATEWAY_ADMIN_KEY[^}]*\}/, `sk_admin_${'a'.repeat(32)}`)
        .replace(/\$\{GATEWAY_METRICS_KEY[^}]*\}/, `sk_metrics_${'m'.repeat(32)}`)
        .replace(/\$\{LIVEKIT_API_SECRET[^}]*\}/, 's'.repeat(40))
        .replace(/\$\{[A-Z_]+[^}]*\}/g, 'value'),
    ]),
  );
}

/** The mounts of a compose file's services whose sources are not in the repository. */
function missingMounts(services: Record<string, ComposeService>): string[] {
  const optional = new Set(['./metrics-key']); // written by the operator, see .env.example
  const missing: string[] = [];
  for (const [name, service] of Object.entries(services)) {
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0] as string;
      if (source.startsWith('.') && !optional.has(source) && !existsSync(join(dockerDir, source))) {
        missing.push(`${name}: ${source}`);
      }
    }
  }
  return missing;
}

describe('docker/compose.yaml', () => {
  it('mounts only files and folders that exist in the repository', () => {
    expect(missingMounts(compose.services)).toEqual([]);
  });

  it('builds the gateway from a Dockerfile whose COPY sources exist', () => {
    const build = compose.services.gateway?.build;
    expect(build).toBeDefined();
    const context = join(dockerDir, build?.context ?? '');
    const dockerfile = readFileSync(join(context, build?.dockerfile ?? ''), 'utf8');
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      (m[1] as string).split(' '),
    );
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) expect(existsSync(join(context, source)), source).toBe(true);
  });

  it("gives the gateway a config that passes the gateway's own validation", () => {
    const env = compose.services.gateway?.environment ?? {};
    const filled = filledEnv(env);
    const config = loadConfig({ file: join(dockerDir, 'gateway.yaml'), env: filled });
    expect(config.sip.engine).toBe('external');
    expect(config.auth.keys.map((k) => k.role)).toEqual(['admin', 'metrics']);
  });

  it('passes `docker compose config` where the compose plugin is installed', (context) => {
    try {
      execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    } catch {
      context.skip('the docker compose plugin is not installed here');
    }
    execFileSync('docker', ['compose', '--env-file', join(dockerDir, '.env.example'), 'config', '--quiet'], {
      cwd: dockerDir,
    });
  });
});

describe('docker/compose.cluster.yaml', () => {
  const cluster = parseYaml(readFileSync(join(dockerDir, 'compose.cluster.yaml'), 'utf8'), {
    merge: true,
  }) as {
    services: Record<string, ComposeService & { command?: string }>;
  };

  it('mounts only files and folders that exist in the repository', () => {
    expect(missingMounts(cluster.services)).toEqual([]);
  });

  it('gives each node a valid config of its own on the shared PostgreSQL and Redis', () => {
    const nodes = ['gateway-a', 'gateway-b'].map((name) => {
      const service = cluster.services[name];
      const file = (service?.volumes ?? [])[0]?.split(':')[0] as string;
      return loadConfig({ file: join(dockerDir, file), env: filledEnv(service?.environment ?? {}) });
    });
    for (const config of nodes) {
      expect(config.store).toMatchObject({
        kind: 'postgres',
        url: expect.stringMatching(/^postgres:\/\/gateway:/),
      });
      expect(config.cluster?.redisUrl).toBe('redis://redis:6379');
    }
    expect(new Set(nodes.map((c) => c.cluster?.nodeId)).size).toBe(2);
    expect(nodes.map((c) => c.cluster?.internalUrl)).toEqual([
      'http://gateway-a:8080',
      'http://gateway-b:8080',
    ]);
    // Each node talks to its own SIP server, and Kamailio dispatches to exactly those.
    const servers = nodes.map((c) => c.sip.drachtio.host);
    expect(servers).toEqual(['drachtio-a', 'drachtio-b']);
    const list = readFileSync(join(dockerDir, 'cluster/dispatcher.list'), 'utf8');
    for (const server of servers) {
      expect(cluster.services[server]).toBeDefined();
      expect(list).toContain(`sip:${server}:5060`);
    }
  });
});

describe('grafana dashboard', () => {
  let running: RunningGateway;
  beforeAll(async () => {
    running = await startInProcessGateway();
  });
  afterAll(async () => {
    await running.stop();
  });

  it('queries only metrics the gateway exports', async () => {
    await fetch(`${running.url}/healthz`);
    const exported = await (await fetch(`${running.url}/metrics`, { headers: bearer(KEYS.metrics) })).text();
    const names = new Set([...exported.matchAll(/^([a-z_:][a-z0-9_:]*)[{ ]/gm)].map((m) => m[1]));
    // Labelled metrics with nothing counted yet have no samples, only their declaration.
    for (const [, name, type] of exported.matchAll(/^# TYPE ([a-z_:][a-z0-9_:]*) (\w+)$/gm)) {
      names.add(name as string);
      if (type === 'histogram') for (const part of ['_bucket', '_sum', '_count']) names.add(`${name}${part}`);
    }
    const dashboard = JSON.parse(readFileSync(join(root, 'grafana/dashboards/gateway.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const promqlWords = new Set([
      'sum',
      'by',
      'rate',
      'histogram_quantile',
      'le',
      'route',
      'status',
      'job',
      'instance',
      'direction',
      'end_reason',
      'worker',
      'channel',
    ]);
    let checked = 0;
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const metrics = [...target.expr.matchAll(/\b([a-z_][a-z0-9_]*)\b(?=\{|\[|\))/g)]
          .map((m) => m[1] as string)
          .filter((word) => !promqlWords.has(word));
        expect(metrics.length, panel.title).toBeGreaterThan(0);
        for (const metric of metrics) {
          expect(names.has(metric), `${panel.title}: ${metric}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });
});
