import { EventEmitter } from 'node:events';
import type { CdrEvent } from '../wire/wireTypes.js';
import type { AppConnection } from './AppConnection.js';
import type { AppRegistryCounts, AppRegistryEvents } from './appRegistryTypes.js';

/**
 * The apps connected to the engine and the methods each has routed. Requests of a method go
 * round-robin to the apps routed for it, as drachtio-server's selectClientForRequestOutsideDialog does.
 */
export class AppRegistry extends EventEmitter<AppRegistryEvents> {
  private readonly connections = new Set<AppConnection>();
  /** verb → apps in the order they routed it. */
  private readonly routeTable = new Map<string, AppConnection[]>();
  /** verb → index of the next app to pick. */
  private readonly nextIndex = new Map<string, number>();
  private readyValue = false;

  /** Takes ownership of a new connection's lifecycle events. */
  add(connection: AppConnection): void {
    this.connections.add(connection);
    connection.on('authenticated', () => {
      this.emit('connected', connection);
      this.updateReadiness();
    });
    connection.on('route', (verb) => {
      this.addRoute(connection, verb);
      this.emit('route', connection, verb);
    });
    connection.on('removeRoute', (verb) => {
      this.removeRoute(connection, verb);
      this.emit('removeRoute', connection, verb);
    });
    connection.on('sip', (command) => this.emit('sip', connection, command));
    connection.on('proxy', (command) => this.emit('proxy', connection, command));
    connection.on('close', (reason) => {
      this.connections.delete(connection);
      for (const verb of [...this.routeTable.keys()]) this.removeRoute(connection, verb);
      this.emit('disconnected', connection, reason);
      this.updateReadiness();
    });
  }

  /** Next app routed for a SIP method (any case), or undefined: the core then answers 503. */
  pick(method: string): AppConnection | undefined {
    const verb = method.toLowerCase();
    const list = this.routeTable.get(verb);
    if (list === undefined || list.length === 0) return undefined;
    const index = (this.nextIndex.get(verb) ?? 0) % list.length;
    this.nextIndex.set(verb, index + 1);
    return list[index];
  }

  /** The app to receive a cdr event, if one subscribed (`srf.on('cdr:stop', …)`). */
  pickCdr(event: CdrEvent): AppConnection | undefined {
    return this.pick(`cdr:${event}`);
  }

  isRouted(method: string): boolean {
    return (this.routeTable.get(method.toLowerCase())?.length ?? 0) > 0;
  }

  /** At least one app has authenticated and is connected. */
  hasApps(): boolean {
    for (const c of this.connections) if (c.isAuthenticated) return true;
    return false;
  }

  /** Resolves once hasApps() is true (at once if it already is). */
  whenReady(): Promise<void> {
    if (this.hasApps()) return Promise.resolve();
    return new Promise((resolve) => {
      const onReadiness = (ready: boolean): void => {
        if (!ready) return;
        this.off('readiness', onReadiness);
        resolve();
      };
      this.on('readiness', onReadiness);
    });
  }

  list(): AppConnection[] {
    return [...this.connections];
  }

  counts(): AppRegistryCounts {
    let authenticated = 0;
    let pendingCommands = 0;
    for (const c of this.connections) {
      if (c.isAuthenticated) authenticated++;
      pendingCommands += c.pendingCount;
    }
    const routes: Record<string, number> = {};
    for (const [verb, list] of this.routeTable) routes[verb] = list.length;
    return { connections: this.connections.size, authenticated, pendingCommands, routes };
  }

  /** Closes every connection (engine shutdown). */
  closeAll(): void {
    for (const c of this.connections) c.close('server-closing');
  }

  private addRoute(connection: AppConnection, verb: string): void {
    const list = this.routeTable.get(verb) ?? [];
    if (!list.includes(connection)) list.push(connection);
    this.routeTable.set(verb, list);
  }

  private removeRoute(connection: AppConnection, verb: string): void {
    const list = this.routeTable.get(verb);
    if (list === undefined) return;
    const at = list.indexOf(connection);
    if (at === -1) return;
    list.splice(at, 1);
    // Keep the rotation where it was: the app after the removed one is next.
    const next = this.nextIndex.get(verb) ?? 0;
    if (at < next) this.nextIndex.set(verb, next - 1);
    if (list.length === 0) {
      this.routeTable.delete(verb);
      this.nextIndex.delete(verb);
    }
  }

  private updateReadiness(): void {
    const ready = this.hasApps();
    if (ready === this.readyValue) return;
    this.readyValue = ready;
    this.emit('readiness', ready);
  }
}
