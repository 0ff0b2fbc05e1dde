import type { Logger } from 'pino';
import type { SipConfig, TrunkConfig } from '../../config/sipSchema.js';
import type { RoutingStore, StoredAppRouting, StoredNumber, StoredTrunk } from '../../store/routingStore.js';
import { SerialQueue } from '../../store/sql/serialQueue.js';

/** Where a routing entry comes from: the YAML file (read-only) or the routing API (the database). */
export type RoutingSource = 'config' | 'api';

/** A called number → app, and the only trunk that may deliver it when set. */
export interface NumberRoute {
  number: string;
  appId: string;
  trunk?: string | undefined;
}

export interface AppRoute {
  appId: string;
  outboundTrunk: string;
}

/** What the live consumers read: replaced whole (new arrays) on every change, never mutated. */
export interface RoutingView {
  trunks: readonly TrunkConfig[];
  numbers: readonly NumberRoute[];
  apps: readonly AppRoute[];
  whatsapp: SipConfig['whatsapp'];
}

export interface TrunkEntry {
  trunk: TrunkConfig;
  source: RoutingSource;
  createdAt: string | null;
  updatedAt: string | null;
}

export interface NumberEntry extends NumberRoute {
  source: RoutingSource;
  createdAt: string | null;
}

/**
 * Why a change was refused: `conflict` (a name or number taken, an entry still referenced),
 * `read_only` (a YAML entry), `not_found`, or `invalid` naming the field at fault.
 */
export class RoutingError extends Error {
  override readonly name = 'RoutingError';
  constructor(
    readonly kind: 'conflict' | 'read_only' | 'not_found' | 'invalid',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface SipRoutingDeps {
  config: Pick<SipConfig, 'trunks' | 'numbers' | 'apps' | 'whatsapp'>;
  store: RoutingStore;
  logger: Logger;
  now: () => Date;
}

/** The routing API's entries as last read from the store. */
interface StoredRouting {
  trunks: readonly StoredTrunk[];
  numbers: readonly StoredNumber[];
  apps: readonly StoredAppRouting[];
}

/**
 * The routing in force: YAML trunks, numbers and apps (read-only) merged with the routing
 * API's (stored in the database, held here in memory from `load` on, so that lookups on each
 * INVITE or dial never wait on it). Every change runs alone (one at a time, so two requests
 * cannot both pass the same check), is stored, then the stored entries are read back, the view
 * is rebuilt and listeners are told at once: the trunk matcher, number router, outbound trunks,
 * media policies and registrations read `view()` on each INVITE or dial, so nothing needs a
 * restart. A YAML entry wins over a stored one of the same name or number (the stored one is
 * ignored with a warning). Calls keep the trunk object they were routed with: changing or
 * deleting a trunk touches only the calls that start afterwards. Another node's changes are seen
 * at the next `load` (no cross-node notice yet).
 */
export class SipRouting {
  private current: RoutingView;
  private stored: StoredRouting = { trunks: [], numbers: [], apps: [] };
  private readonly listeners: ((view: RoutingView) => void)[] = [];
  private readonly changes = new SerialQueue();

  /** Until `load`, the view holds the config file's entries only. */
  constructor(private readonly deps: SipRoutingDeps) {
    this.current = this.build();
  }

  /**
   * Reads the routing API's entries from the store (before the first call, Gateway.start).
   * Again later, it is how a node sees changes other nodes made: nothing tells it otherwise.
   */
  load(): Promise<void> {
    return this.changes.push(async () => {
      const invalid = await this.readStore();
      const names = new Set(this.deps.config.trunks.map((trunk) => trunk.name));
      for (const entry of this.stored.trunks) {
        if (names.has(entry.config.name)) {
          this.deps.logger.warn(
            { trunk: entry.config.name },
            'stored trunk ignored: a config trunk has its name',
          );
        }
      }
      for (const name of invalid) {
        this.deps.logger.warn({ trunk: name }, 'stored trunk ignored: it no longer passes the trunk schema');
      }
      this.apply(() => undefined);
    });
  }

  /**
   * Reads the stored entries again and applies them only if they changed: on a store several
   * nodes share, how this node sees trunks and numbers another node's API changed.
   */
  refresh(): Promise<boolean> {
    return this.changes.push(async () => {
      const before = JSON.stringify(this.stored);
      await this.readStore();
      if (JSON.stringify(this.stored) === before) return false;
      this.apply(() => undefined);
      return true;
    });
  }

  view(): RoutingView {
    return this.current;
  }

  /** Told after every change, with the new view. */
  onChange(listener: (view: RoutingView) => void): void {
    this.listeners.push(listener);
  }

  trunkEntries(): TrunkEntry[] {
    const fromConfig = this.deps.config.trunks.map((trunk) => ({
      trunk,
      source: 'config' as const,
      createdAt: null,
      updatedAt: null,
    }));
    const stored = this.storedTrunks().map((entry) => ({
      trunk: entry.config,
      source: 'api' as const,
      createdAt: entry.createdAt,
      updatedAt: entry.updatedAt,
    }));
    return [...fromConfig, ...stored];
  }

  trunkEntry(name: string): TrunkEntry | undefined {
    return this.trunkEntries().find((entry) => entry.trunk.name === name);
  }

  numberEntries(): NumberEntry[] {
    const fromConfig = this.deps.config.numbers.map(({ number, appId }) => ({
      number,
      appId,
      source: 'config' as const,
      createdAt: null,
    }));
    const stored = this.storedNumbers().map((entry) => ({
      number: entry.number,
      appId: entry.appId,
      ...(entry.trunk === null ? {} : { trunk: entry.trunk }),
      source: 'api' as const,
      createdAt: entry.createdAt,
    }));
    return [...fromConfig, ...stored];
  }

  /** The app's outbound trunk and where it is set; undefined when it has none. */
  appEntry(appId: string): { outboundTrunk: string; source: RoutingSource } | undefined {
    const configured = this.deps.config.apps.find((app) => app.appId === appId);
    if (configured) return { outboundTrunk: configured.outboundTrunk, source: 'config' };
    const stored = this.stored.apps.find((app) => app.appId === appId);
    return stored ? { outboundTrunk: stored.outboundTrunk, source: 'api' } : undefined;
  }

  createTrunk(trunk: TrunkConfig): Promise<TrunkEntry> {
    return this.changes.push(() => this.createTrunkNow(trunk));
  }

  private async createTrunkNow(trunk: TrunkConfig): Promise<TrunkEntry> {
    if (this.trunkEntry(trunk.name)) {
      throw new RoutingError('conflict', `a trunk named ${trunk.name} exists already`, 'name');
    }
    checkTrunk(trunk);
    await this.deps.store.putTrunk(trunk, this.deps.now().toISOString());
    return this.changed(() => this.trunkEntry(trunk.name) as TrunkEntry);
  }

  updateTrunk(trunk: TrunkConfig): Promise<TrunkEntry> {
    return this.patchTrunk(trunk.name, () => trunk);
  }

  /**
   * Replaces the trunk `name` with what `patch` makes of it, read and written in one change, so
   * two concurrent patches of different fields both hold.
   */
  patchTrunk(name: string, patch: (current: TrunkConfig) => TrunkConfig): Promise<TrunkEntry> {
    return this.changes.push(() => this.patchTrunkNow(name, patch));
  }

  private async patchTrunkNow(
    name: string,
    patch: (current: TrunkConfig) => TrunkConfig,
  ): Promise<TrunkEntry> {
    const trunk = patch(this.writable(name).trunk);
    checkTrunk(trunk);
    const app = this.appsUsing(trunk.name)[0];
    if (app && (trunk.kind !== 'pstn' || !trunk.outbound)) {
      throw new RoutingError(
        'invalid',
        `the outbound trunk of app ${app} must stay a pstn trunk with outbound settings`,
        trunk.kind !== 'pstn' ? 'kind' : 'outbound',
      );
    }
    if (trunk.kind !== 'pstn' && this.numbersUsing(trunk.name).length > 0) {
      throw new RoutingError('invalid', 'numbers are delivered by this trunk: it must stay pstn', 'kind');
    }
    await this.deps.store.putTrunk(trunk, this.deps.now().toISOString());
    return this.changed(() => this.trunkEntry(trunk.name) as TrunkEntry);
  }

  /** Refused (conflict) while numbers or apps name the trunk: delete or move them first. */
  deleteTrunk(name: string): Promise<TrunkConfig> {
    return this.changes.push(() => this.deleteTrunkNow(name));
  }

  private async deleteTrunkNow(name: string): Promise<TrunkConfig> {
    const entry = this.writable(name);
    const numbers = this.numbersUsing(name);
    const apps = this.appsUsing(name);
    if (numbers.length > 0 || apps.length > 0) {
      const users = [...numbers.map((number) => `number ${number}`), ...apps.map((appId) => `app ${appId}`)];
      throw new RoutingError('conflict', `trunk ${name} is in use by ${users.join(', ')}`);
    }
    await this.deps.store.deleteTrunk(name);
    return this.changed(() => entry.trunk);
  }

  addNumber(route: NumberRoute): Promise<NumberEntry> {
    return this.changes.push(() => this.addNumberNow(route));
  }

  private async addNumberNow(route: NumberRoute): Promise<NumberEntry> {
    const taken =
      this.numberEntries().some((entry) => entry.number === route.number) ||
      this.deps.config.whatsapp.numbers.some((entry) => entry.number === route.number);
    if (taken) throw new RoutingError('conflict', `number ${route.number} is routed already`, 'number');
    if (route.trunk !== undefined) {
      const trunk = this.trunkEntry(route.trunk)?.trunk;
      if (!trunk) throw new RoutingError('invalid', `no trunk named ${route.trunk}`, 'trunk');
      if (trunk.kind !== 'pstn') {
        throw new RoutingError(
          'invalid',
          `trunk ${route.trunk} is not a pstn trunk (WhatsApp numbers are sip.whatsapp.numbers)`,
          'trunk',
        );
      }
    }
    const stored: StoredNumber = {
      number: route.number,
      appId: route.appId,
      trunk: route.trunk ?? null,
      createdAt: this.deps.now().toISOString(),
    };
    // Stored meanwhile by another node (this one's entries are as of its last read).
    if (!(await this.deps.store.addNumber(stored))) {
      throw new RoutingError('conflict', `number ${route.number} is routed already`, 'number');
    }
    return this.changed(() => ({ ...route, source: 'api', createdAt: stored.createdAt }));
  }

  deleteNumber(number: string): Promise<NumberEntry> {
    return this.changes.push(() => this.deleteNumberNow(number));
  }

  private async deleteNumberNow(number: string): Promise<NumberEntry> {
    const entry = this.numberEntries().find((candidate) => candidate.number === number);
    if (!entry) throw new RoutingError('not_found', `number ${number} is not routed`);
    if (entry.source === 'config') {
      throw new RoutingError('read_only', `number ${number} is in the config file (sip.numbers): read-only`);
    }
    await this.deps.store.deleteNumber(number);
    return this.changed(() => entry);
  }

  /** Sets (or, with null, removes) the app's outbound trunk: a pstn trunk with outbound settings. */
  setAppTrunk(appId: string, outboundTrunk: string | null): Promise<AppRoute | null> {
    return this.changes.push(() => this.setAppTrunkNow(appId, outboundTrunk));
  }

  private async setAppTrunkNow(appId: string, outboundTrunk: string | null): Promise<AppRoute | null> {
    if (this.deps.config.apps.some((app) => app.appId === appId)) {
      throw new RoutingError('read_only', `app ${appId} is in the config file (sip.apps): read-only`);
    }
    if (outboundTrunk !== null) {
      const trunk = this.trunkEntry(outboundTrunk)?.trunk;
      const problem = !trunk
        ? `no trunk named ${outboundTrunk}`
        : trunk.kind !== 'pstn'
          ? `trunk ${outboundTrunk} is not a pstn trunk`
          : !trunk.outbound
            ? `trunk ${outboundTrunk} has no outbound settings`
            : undefined;
      if (problem) throw new RoutingError('invalid', problem, 'outboundTrunk');
    }
    await this.deps.store.setAppTrunk(appId, outboundTrunk, this.deps.now().toISOString());
    return this.changed(() => (outboundTrunk === null ? null : { appId, outboundTrunk }));
  }

  private writable(name: string): TrunkEntry {
    const entry = this.trunkEntry(name);
    if (!entry) throw new RoutingError('not_found', `no trunk named ${name}`);
    if (entry.source === 'config') {
      throw new RoutingError('read_only', `trunk ${name} is in the config file (sip.trunks): read-only`);
    }
    return entry;
  }

  private numbersUsing(trunk: string): string[] {
    return this.storedNumbers()
      .filter((entry) => entry.trunk === trunk)
      .map((entry) => entry.number);
  }

  private appsUsing(trunk: string): string[] {
    return this.storedApps()
      .filter((app) => app.outboundTrunk === trunk)
      .map((app) => app.appId);
  }

  /** After a change is stored: the stored entries read back (what the database now holds). */
  private async changed<T>(result: () => T): Promise<T> {
    await this.readStore();
    return this.apply(result);
  }

  /** Reads the stored entries into memory; resolves to the names of trunks the schema refuses. */
  private async readStore(): Promise<string[]> {
    const [trunks, numbers, apps] = await Promise.all([
      this.deps.store.trunks(),
      this.deps.store.numbers(),
      this.deps.store.apps(),
    ]);
    this.stored = { trunks: trunks.trunks, numbers, apps };
    return trunks.invalid;
  }

  private apply<T>(result: () => T): T {
    this.current = this.build();
    const value = result();
    for (const listener of this.listeners) {
      try {
        listener(this.current);
      } catch (error) {
        this.deps.logger.error({ err: error }, 'a routing listener failed');
      }
    }
    return value;
  }

  /** Stored trunks whose name no YAML trunk has. */
  private storedTrunks(): StoredTrunk[] {
    const names = new Set(this.deps.config.trunks.map((trunk) => trunk.name));
    return this.stored.trunks.filter((entry) => !names.has(entry.config.name));
  }

  private storedNumbers(): StoredNumber[] {
    const numbers = new Set([
      ...this.deps.config.numbers.map((entry) => entry.number),
      ...this.deps.config.whatsapp.numbers.map((entry) => entry.number),
    ]);
    return this.stored.numbers.filter((entry) => !numbers.has(entry.number));
  }

  private storedApps(): StoredAppRouting[] {
    const apps = new Set(this.deps.config.apps.map((app) => app.appId));
    return this.stored.apps.filter((app) => !apps.has(app.appId));
  }

  private build(): RoutingView {
    const { config } = this.deps;
    return {
      trunks: [...config.trunks, ...this.storedTrunks().map((entry) => entry.config)],
      numbers: [
        ...config.numbers,
        ...this.storedNumbers().map((entry) => ({
          number: entry.number,
          appId: entry.appId,
          ...(entry.trunk === null ? {} : { trunk: entry.trunk }),
        })),
      ],
      apps: [
        ...config.apps,
        ...this.storedApps().map(({ appId, outboundTrunk }) => ({ appId, outboundTrunk })),
      ],
      whatsapp: config.whatsapp,
    };
  }
}

/** The rules sip.trunks[] has beyond its own schema. */
function checkTrunk(trunk: TrunkConfig): void {
  if (trunk.registration && !trunk.outbound) {
    throw new RoutingError(
      'invalid',
      'a trunk registers only with outbound settings (the transport, and the host unless registrar is set)',
      'registration',
    );
  }
}
