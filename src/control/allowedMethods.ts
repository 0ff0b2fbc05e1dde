import type { RouteSpec } from './routeSpec.js';

/**
 * Which methods each declared path answers, so a request for a known path with another method
 * gets 405 and an Allow header instead of a 404 that reads as "no such resource".
 */
export class AllowedMethods {
  private readonly paths: { pattern: RegExp; methods: Set<string> }[] = [];

  constructor(routes: readonly RouteSpec[]) {
    const byUrl = new Map<string, Set<string>>();
    for (const route of routes) {
      const methods = byUrl.get(route.url) ?? new Set<string>();
      methods.add(route.method);
      // fastify answers HEAD for every GET route itself.
      if (route.method === 'GET') methods.add('HEAD');
      byUrl.set(route.url, methods);
    }
    for (const [url, methods] of byUrl) {
      const source = url
        .split('/')
        .map((segment) =>
          segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/');
      this.paths.push({ pattern: new RegExp(`^${source}$`), methods });
    }
  }

  /** The methods a path answers, sorted; empty for a path no route declares. */
  of(url: string): string[] {
    const path = url.split('?')[0] ?? url;
    const found = this.paths.find((entry) => entry.pattern.test(path));
    return found ? [...found.methods].sort() : [];
  }
}
