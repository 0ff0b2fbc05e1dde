import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../apiError.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';

export interface ConsoleRouteDeps {
  /** The page's static files (web/console: index.html, console.css). */
  sourceDir: string;
  /** The page's bundle (dist/web/console/app.js, made by `npm run build`). */
  bundleDir: string;
}

interface Asset {
  file: string;
  type: string;
}

const ASSETS: Record<string, Asset & { from: 'source' | 'bundle' }> = {
  '/console': { file: 'index.html', type: 'text/html; charset=utf-8', from: 'source' },
  '/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8', from: 'source' },
  '/console/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8', from: 'bundle' },
};

/**
 * The agent console: a page the gateway serves itself, working offline (no CDN). The page is
 * public like any login page; everything it does goes through the API with the key the person
 * signs in with. A strict Content-Security-Policy lets it load only its own files and talk only
 * to this gateway and the LiveKit server.
 */
export function consoleRoutes(deps: ConsoleRouteDeps & { livekitUrl: string }): RouteSpec[] {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ${livekitOrigins(deps.livekitUrl)}`,
    "media-src 'self' blob: mediastream:",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
  return Object.entries(ASSETS).map(([url, asset]) =>
    defineRoute({
      method: 'GET',
      url,
      operationId: `console${asset.file.replace(/[^a-z]/gi, '')}`,
      summary: `The agent console: ${asset.file}`,
      tag: 'console',
      access: 'public',
      responses: {
        200: { description: asset.file, contentType: asset.type },
        503: { description: 'the console was not built (npm run build)' },
      },
      handler: ({ reply }) => {
        const dir = asset.from === 'source' ? deps.sourceDir : deps.bundleDir;
        let body: Buffer;
        try {
          body = readFileSync(join(dir, asset.file));
        } catch {
          throw new ApiError(503, 'console_not_built', `${asset.file} is missing: run npm run build`);
        }
        reply
          .type(asset.type)
          .header('cache-control', 'no-cache')
          .header('content-security-policy', csp)
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer');
        return body;
      },
    }),
  );
}

/** The LiveKit server's signalling origins (ws and its http twin). */
function livekitOrigins(url: string): string {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'wss:' || parsed.protocol === 'https:';
  return [`${secure ? 'wss' : 'ws'}://${parsed.host}`, `${secure ? 'https' : 'http'}://${parsed.host}`].join(
    ' ',
  );
}
