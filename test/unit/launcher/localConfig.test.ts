import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { DEMO_NUMBER, firstRunConfig, readLocalSettings } from '../../../src/launcher/localConfig.js';

describe("npm run up's first-run config", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function written(): {
    path: string;
    yaml: string;
    settings: ReturnType<typeof firstRunConfig>['settings'];
  } {
    const dir = mkdtempSync(join(tmpdir(), 'up-config-'));
    dirs.push(dir);
    const { yaml, settings } = firstRunConfig(dir, ['192.0.2.2', '127.0.0.1']);
    const path = join(dir, 'gateway.yaml');
    writeFileSync(path, yaml);
    return { path, yaml, settings };
  }

  test('is a valid gateway config that routes the demo number to the demo app over a loopback trunk', () => {
    const { path, settings } = written();
    const config = loadConfig({ file: path, env: {} });
    expect(config.sip.numbers).toEqual([{ number: DEMO_NUMBER, appId: settings.demoAppId }]);
    const trunk = config.sip.trunks.find((t) => t.name === 'local');
    // The machine's own addresses too (a softphone here may send from them), each once.
    expect(trunk?.sourceAddresses).toEqual(['127.0.0.1', '192.0.2.2']);
    expect(trunk?.outbound?.host).toBe('127.0.0.1');
    expect(config.sip.apps).toEqual([{ appId: settings.demoAppId, outboundTrunk: 'local' }]);
    expect(config.auth.keys).toEqual([{ key: settings.adminKey, role: 'admin' }]);
  });

  test('reads back the same settings on the next run, and each first run has its own secrets', () => {
    const first = written();
    expect(readLocalSettings(first.yaml, first.path)).toEqual(first.settings);
    const second = written();
    expect(second.settings.adminKey).not.toBe(first.settings.adminKey);
    expect(second.settings.livekitSecret).not.toBe(first.settings.livekitSecret);
    expect(second.settings.demoAppId).not.toBe(first.settings.demoAppId);
  });

  test('an older config without a demo still starts, with no demo to print', () => {
    const yaml = 'auth:\n  keys: [{ key: sk_admin_x, role: admin }]\nlivekit: { apiKey: k, apiSecret: s }\n';
    expect(readLocalSettings(yaml, 'old.yaml')).toMatchObject({ demoAppId: null, demoNumber: null });
    expect(() => readLocalSettings('livekit: {}\n', 'bad.yaml')).toThrow(/no admin key/);
  });
});
