import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError } from '../../src/config/configError.js';
import { loadConfig } from '../../src/config/loadConfig.js';

const dir = mkdtempSync(join(tmpdir(), 'config-files-'));
let files = 0;

/** Loads a config whose `sip` section is exactly `sip` (written as JSON, which is YAML). */
export function withSip(sip: unknown) {
  const path = join(dir, `config-${++files}.json`);
  writeFileSync(path, JSON.stringify({ sip }));
  return loadConfig({ file: path, env: {} });
}

/** The message of the ConfigError `run` throws (fails the test if it throws none or another). */
export function configErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}
