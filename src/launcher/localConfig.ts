import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import KSUID from 'ksuid';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/** What `npm run up` needs to know of its local config, read back on later runs. */
export interface LocalSettings {
  adminKey: string;
  livekitKey: string;
  livekitSecret: string;
  /** The demo app whose console the printed link opens; null in a config written without one. */
  demoAppId: string | null;
  /** The demo number that rings the demo app; null likewise. */
  demoNumber: string | null;
}

export const DEMO_NUMBER = '+15550100';
/** Where calls the demo app places to the PSTN go: a softphone listening on this machine. */
export const DEMO_OUTBOUND_PORT = 5080;

/**
 * The config `npm run up` writes on its first run: random secrets, and a demo so that the first
 * call needs no editing: an app, a number routed to it, and a loopback trunk that takes calls
 * from this machine and sends the app's outbound calls to a softphone on port 5080.
 */
export function firstRunConfig(
  localDir: string,
  /**
   * This machine's own addresses: a softphone here may send from its LAN address even to
   * 127.0.0.1 (baresip does), and the SIP server listens on loopback only, so nobody else reaches it.
   */
  machineAddresses: readonly string[] = [],
): { yaml: string; settings: LocalSettings } {
  const settings: LocalSettings = {
    adminKey: `sk_admin_${randomBytes(24).toString('base64url')}`,
    livekitKey: `local${randomBytes(4).toString('hex')}`,
    livekitSecret: randomBytes(32).toString('base64url'),
    demoAppId: `app_${KSUID.randomSync().string}`,
    demoNumber: DEMO_NUMBER,
  };
  const config = {
    http: { host: '127.0.0.1', port: 8080 },
    store: { path: join(localDir, 'gateway.db') },
    recording: { dir: join(localDir, 'recordings') },
    auth: { keys: [{ key: settings.adminKey, role: 'admin' }] },
    livekit: { url: 'ws://127.0.0.1:7880', apiKey: settings.livekitKey, apiSecret: settings.livekitSecret },
    sip: {
      drachtio: { secret: randomBytes(16).toString('hex') },
      trunks: [
        {
          name: 'local',
          kind: 'pstn',
          sourceAddresses: [...new Set(['127.0.0.1', ...machineAddresses])],
          outbound: { host: '127.0.0.1', port: DEMO_OUTBOUND_PORT, transport: 'udp' },
        },
      ],
      numbers: [{ number: DEMO_NUMBER, appId: settings.demoAppId }],
      apps: [{ appId: settings.demoAppId, outboundTrunk: 'local' }],
    },
  };
  const yaml = [
    '# Written by npm run up on first run; edit freely.',
    `# The demo: ${DEMO_NUMBER} rings app ${settings.demoAppId} (calls from this machine's addresses, trunk`,
    '# "local": the SIP server listens on 127.0.0.1 only; list real carriers\' addresses before you open it up);',
    `# the app's outbound PSTN calls go to a softphone on 127.0.0.1:${DEMO_OUTBOUND_PORT}.`,
    stringifyYaml(config),
  ].join('\n');
  return { yaml, settings };
}

/** Reads the settings back from a config written earlier (possibly by hand since). */
export function readLocalSettings(yaml: string, path: string): LocalSettings {
  const doc = parseYaml(yaml) as {
    auth?: { keys?: { key: string; role?: string }[] };
    livekit?: { apiKey?: string; apiSecret?: string };
    sip?: { numbers?: { number: string; appId: string }[]; apps?: { appId: string }[] };
  };
  const adminKey = doc.auth?.keys?.find((key) => key.role === 'admin')?.key;
  if (!adminKey) throw new Error(`${path} has no admin key; delete it to start afresh`);
  if (!doc.livekit?.apiKey || !doc.livekit.apiSecret)
    throw new Error(`${path} has no livekit apiKey/apiSecret; delete it to start afresh`);
  const number = doc.sip?.numbers?.[0];
  return {
    adminKey,
    livekitKey: doc.livekit.apiKey,
    livekitSecret: doc.livekit.apiSecret,
    demoAppId: number?.appId ?? doc.sip?.apps?.[0]?.appId ?? null,
    demoNumber: number?.number ?? null,
  };
}
