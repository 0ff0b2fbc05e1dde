import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AppConnection } from '../../../sip/engine/apps/AppConnection.js';
import { AppRegistry } from '../../../sip/engine/apps/AppRegistry.js';
import { formatHostport } from '../../../sip/engine/apps/hostports.js';

/** Just enough of AppConnection for the registry: its events and two getters. */
class FakeConnection extends EventEmitter {
  isAuthenticated = false;
  pendingCount = 0;
  closed = false;
  constructor(readonly id: string) {
    super();
  }
  authenticate(): void {
    this.isAuthenticated = true;
    this.emit('authenticated');
  }
  close(): void {
    this.closed = true;
  }
}

function setup(names: string[]): { registry: AppRegistry; apps: FakeConnection[] } {
  const registry = new AppRegistry();
  const apps = names.map((n) => new FakeConnection(n));
  for (const app of apps) {
    registry.add(app as unknown as AppConnection);
    app.authenticate();
  }
  return { registry, apps };
}

const idOf = (c: AppConnection | undefined): string | undefined => c?.id;

describe('AppRegistry', () => {
  it('round-robins per method, case-insensitively, and returns undefined when nothing is routed', () => {
    const { registry, apps } = setup(['a', 'b', 'c']);
    for (const app of apps) app.emit('route', 'invite');
    apps[0]?.emit('route', 'options');
    expect([1, 2, 3, 4].map(() => idOf(registry.pick('INVITE')))).toEqual(['a', 'b', 'c', 'a']);
    expect(idOf(registry.pick('options'))).toBe('a');
    expect(registry.pick('register')).toBeUndefined();
  });

  it('keeps the rotation when an app leaves, and forgets all its routes on close', () => {
    const { registry, apps } = setup(['a', 'b', 'c']);
    for (const app of apps) app.emit('route', 'invite');
    apps[1]?.emit('route', 'cdr:stop');
    expect(idOf(registry.pick('invite'))).toBe('a');
    expect(idOf(registry.pick('invite'))).toBe('b');
    apps[0]?.emit('close', 'peer-closed');
    expect(idOf(registry.pick('invite'))).toBe('c');
    expect(idOf(registry.pick('invite'))).toBe('b');
    apps[1]?.emit('close', 'peer-closed');
    expect(registry.counts()).toMatchObject({ connections: 1, authenticated: 1, routes: { invite: 1 } });
    expect(registry.pickCdr('stop')).toBeUndefined();
  });

  it('honours remove_route and ignores duplicate routes', () => {
    const { registry, apps } = setup(['a', 'b']);
    apps[0]?.emit('route', 'invite');
    apps[0]?.emit('route', 'invite');
    apps[1]?.emit('route', 'invite');
    expect(registry.counts().routes).toEqual({ invite: 2 });
    apps[0]?.emit('removeRoute', 'invite');
    expect(idOf(registry.pick('invite'))).toBe('b');
    expect(idOf(registry.pick('invite'))).toBe('b');
  });

  it('signals readiness when the first app authenticates and when the last one leaves', async () => {
    const registry = new AppRegistry();
    const changes: boolean[] = [];
    registry.on('readiness', (ready) => changes.push(ready));
    const ready = registry.whenReady();
    const app = new FakeConnection('a');
    registry.add(app as unknown as AppConnection);
    expect(registry.hasApps()).toBe(false);
    app.authenticate();
    await ready;
    expect(registry.hasApps()).toBe(true);
    app.emit('close', 'peer-closed');
    expect(registry.hasApps()).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('forwards sip commands with the connection they came from', () => {
    const { registry, apps } = setup(['a']);
    const seen: string[] = [];
    registry.on('sip', (connection, command) => seen.push(`${connection.id}:${command.txnId}`));
    apps[0]?.emit('sip', { kind: 'sip', msgId: 'm', txnId: 't', dialogId: '', routeUrl: '', rawSip: 'x' });
    expect(seen).toEqual(['a:t']);
    registry.closeAll();
    expect(apps[0]?.closed).toBe(true);
  });
});

describe('formatHostport', () => {
  it('formats drachtio hostports, preferring the external ip and bracketing IPv6', () => {
    expect(formatHostport({ protocol: 'udp', host: '127.0.0.1', port: 5060 })).toBe('udp/127.0.0.1:5060');
    expect(formatHostport({ protocol: 'tls', host: '10.0.0.1', port: 5061, externalIp: '203.0.113.1' })).toBe(
      'tls/203.0.113.1:5061',
    );
    expect(formatHostport({ protocol: 'tcp', host: '::1', port: 5060 })).toBe('tcp/[::1]:5060');
  });
});
