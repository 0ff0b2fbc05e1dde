import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { expect, onTestFailed } from 'vitest';
import { FINAL_STATUSES, STATUS_EVENTS } from '../../src/calls/callTypes.js';
import { freeTcpPort } from '../../src/launcher/freePorts.js';
import { CONTROL_TOKEN, ControlPlane } from './controlPlane.js';
import { callGatewayConfig, until } from './gatewayApi.js';
import { GatewayProcess } from './gatewayProcess.js';
import { type RunningGateway, startInProcessGateway } from './inProcessGateway.js';
import { type PostgresServer, startPostgresServer } from './postgresServer.js';
import { type RedisServer, startRedisServer } from './redisServer.js';
import { type SipEngineProcess, startSipEngine } from './sipEngineProcess.js';
import { AUTH_KEYS, bearer, KEYS, TEST_APP_ID } from './testKeys.js';

/**
 * What the cluster integration tests (clusterNodes, clusterKamailio) share: one PostgreSQL, one
 * redis-server, a control plane stand-in and two embedded SIP servers for the whole file, and per
 * test a fresh database and Redis key prefix (one cluster) with gateway nodes on it, in process
 * or as child processes. Each test keeps its own scenario helpers; only the rig lives here.
 */

/** Short, so a node's takeover of a dead node's calls happens within a test's patience. */
export const LEASE_MS = 1000;
/** The events that end a call: exactly one of them must reach the control plane per call. */
export const FINAL_EVENTS: ReadonlySet<string> = new Set(
  FINAL_STATUSES.map((status) => STATUS_EVENTS[status]),
);
export const CALLING_PATH = `/v1/organization/apps/${TEST_APP_ID}/calling`;

/** One node's HTTP API (in process or a child process) and what it logged. */
export interface ClusterNode {
  name: string;
  url: string;
  engine: SipEngineProcess;
  /** From the node's first hello to the control plane: the id its events are delivered under. */
  gatewayId: string;
  /** The in-process gateway; undefined for a child process. */
  gw?: RunningGateway;
  child?: GatewayProcess;
  logs(): string[];
}

/** What one cluster shares: its PostgreSQL database and its Redis key prefix. */
export interface ClusterStore {
  url: string;
  keyPrefix: string;
}

export interface Reply {
  status: number;
  json: any;
}

/** An admin-keyed request to a node; the body is parsed as JSON when it is JSON, else kept as text. */
export async function request(node: { url: string }, path: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(`${node.url}${path}`, {
    ...init,
    headers: {
      ...bearer(KEYS.admin),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/** The test app's calls as a node lists them (from the shared store: every node's calls). */
export async function callsOn(node: { name: string; url: string }, status?: string): Promise<any[]> {
  const reply = await request(
    node,
    `/v1/calls?appId=${TEST_APP_ID}&limit=100${status ? `&status=${status}` : ''}`,
  );
  if (reply.status !== 200)
    throw new Error(`GET /v1/calls on ${node.name}: ${reply.status} ${JSON.stringify(reply.json)}`);
  return reply.json.data;
}

/**
 * Sets the app's calling configuration on a node, with calls ringing until an action decides.
 * Each node holds these in memory (reloaded only by its own writes), so a test sets it on every node.
 */
export async function configureApp(node: ClusterNode, maxConcurrentCalls: number): Promise<any> {
  const reply = await request(node, CALLING_PATH, {
    method: 'PUT',
    body: JSON.stringify({ maxConcurrentCalls, defaultAnswerBehavior: 'webhook' }),
  });
  expect(reply.status, JSON.stringify(reply.json)).toBe(200);
  return reply.json;
}

/** A pino logger at warn whose lines the test can print when it fails. */
export function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(line);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

/** How one test's nodes differ from the defaults. */
export interface NodeOptions {
  ringTimeoutSeconds: number;
  /** A livekit-server for the calls' rooms; none when the test needs no media. */
  livekit?: { url: string; apiKey: string; apiSecret: string };
  /** Merged into the node's `http` section (its port is always a fresh one). */
  http?: Record<string, unknown>;
  /** The node's `media` section (a child process also gets `workers: 1`). */
  media?: Record<string, unknown>;
  /** For an in-process node: the built RTP worker, when calls carry media. */
  mediaWorkerEntry?: string;
}

/** The shared servers of a cluster test file, and the nodes its tests start. */
export class ClusterRig {
  postgres!: PostgresServer;
  redis!: RedisServer;
  plane!: ControlPlane;
  engines!: [SipEngineProcess, SipEngineProcess];
  private databases = 0;
  /** Nodes still running; stopped (last started first) by stopNodes. */
  private readonly running: ClusterNode[] = [];
  /** The running test's nodes, kept past afterEach (which stops them) for the failure report. */
  private tested: ClusterNode[] = [];
  private readonly dirs: string[] = [];

  /** `label` names the databases, key prefixes and child-process directories of this test file. */
  constructor(private readonly label: string) {}

  async start(): Promise<void> {
    [this.postgres, this.redis, this.plane] = await Promise.all([
      startPostgresServer(),
      startRedisServer(),
      ControlPlane.start(),
    ]);
    // One after the other: they pick free ports, and two pickers at once can be handed the same one.
    const first = await startSipEngine();
    this.engines = [first, await startSipEngine()];
  }

  async stop(): Promise<void> {
    for (const engine of this.engines ?? []) await engine.stop();
    await this.plane?.stop();
    await this.redis?.dispose();
    await this.postgres?.stop();
  }

  /** Stops this test's nodes (a child process with SIGKILL) and removes their directories. */
  async stopNodes(): Promise<void> {
    for (const node of this.running.splice(0).reverse()) {
      if (node.gw) await node.gw.stop();
      if (node.child) {
        node.child.kill('SIGKILL');
        await node.child.exited;
      }
    }
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }

  /**
   * Call first in a test: if it fails, prints what the nodes it starts from now on logged (warn
   * and above), then `more` (another part's log).
   */
  dumpLogsOnFailure(more?: () => void): void {
    this.tested = [];
    onTestFailed(() => {
      for (const node of this.tested) {
        console.error(`--- node ${node.name} logs (warn+) ---\n${node.logs().join('\n') || '(none)'}`);
      }
      more?.();
    });
  }

  /** A fresh database on the server, and a fresh Redis key prefix: what one cluster shares. */
  async freshCluster(): Promise<ClusterStore> {
    const n = ++this.databases;
    const name = `gateway_${this.label}_${process.pid}_${n}`;
    const admin = new pg.Client({ connectionString: this.postgres.url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const target = new URL(this.postgres.url);
    target.pathname = `/${name}`;
    return { url: target.toString(), keyPrefix: `${this.label}${n}x${process.pid}` };
  }

  /** A node's config: its SIP server, the shared store and Redis, its own fixed HTTP port. */
  async nodeConfig(
    name: string,
    engine: SipEngineProcess,
    cluster: ClusterStore,
    options: NodeOptions,
  ): Promise<{ config: Record<string, unknown>; url: string }> {
    const port = await freeTcpPort();
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      config: {
        ...callGatewayConfig(engine, options.livekit, {
          sip: { ringTimeoutSeconds: options.ringTimeoutSeconds },
        }),
        http: { port, ...options.http },
        ...(options.media ? { media: options.media } : {}),
        store: { kind: 'postgres', url: cluster.url },
        cluster: {
          redisUrl: this.redis.url,
          nodeId: `node-${name}`,
          internalUrl: url,
          leaseMs: LEASE_MS,
          keyPrefix: cluster.keyPrefix,
        },
        control: { url: this.plane.url, token: CONTROL_TOKEN, reconnectMinMs: 20, reconnectMaxMs: 200 },
      },
    };
  }

  /** A node in this process, up once connected to its SIP server and greeted by the control plane. */
  async inProcessNode(
    name: string,
    engine: SipEngineProcess,
    cluster: ClusterStore,
    options: NodeOptions,
  ): Promise<ClusterNode> {
    const { config, url } = await this.nodeConfig(name, engine, cluster, options);
    const { logger, lines } = capturingLogger();
    const after = this.plane.received.length;
    const gw = await startInProcessGateway(config, {
      logger,
      ...(options.mediaWorkerEntry ? { mediaWorkerEntry: options.mediaWorkerEntry } : {}),
    });
    const node: ClusterNode = { name, url, engine, gatewayId: '', gw, logs: () => lines };
    this.track(node);
    expect(gw.url).toBe(url);
    await until(async () => gw.gateway.sip.isConnected, 15_000);
    node.gatewayId = await this.helloAfter(after);
    return node;
  }

  /** A node as a child process (so a test can signal it), up once its SIP part is ready. */
  async childProcessNode(
    name: string,
    engine: SipEngineProcess,
    cluster: ClusterStore,
    options: NodeOptions,
  ): Promise<ClusterNode> {
    const { config, url } = await this.nodeConfig(name, engine, cluster, options);
    const dir = mkdtempSync(join(tmpdir(), `${this.label}-node-`));
    this.dirs.push(dir);
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...config,
        log: { level: 'info', format: 'json' },
        store: { ...(config.store as object), path: join(dir, 'unused.db') },
        recording: { dir: join(dir, 'recordings') },
        auth: { keys: AUTH_KEYS },
        media: { ...(config.media as object | undefined), workers: 1 },
      }),
    );
    const after = this.plane.received.length;
    const child = new GatewayProcess(['--config', configFile]);
    const node: ClusterNode = {
      name,
      url,
      engine,
      gatewayId: '',
      child,
      logs: () => [
        ...child.lines.filter((line) => line.level >= 40).map((line) => JSON.stringify(line)),
        ...(child.stderr ? [`stderr: ${child.stderr}`] : []),
      ],
    };
    this.track(node);
    expect(await child.ready()).toBe(url);
    await until(async () => (await request(node, '/readyz')).json?.parts?.sip?.ok === true, 30_000);
    node.gatewayId = await this.helloAfter(after);
    return node;
  }

  private track(node: ClusterNode): void {
    this.running.push(node);
    this.tested.push(node);
  }

  /** The gateway id of the first hello the control plane gets after `after` messages. */
  private async helloAfter(after: number): Promise<string> {
    const hello = await this.plane.nextMessage('hello', after, 15_000);
    return hello.gatewayId as string;
  }
}
