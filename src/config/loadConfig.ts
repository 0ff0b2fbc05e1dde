import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './configError.js';
import { applyEnvOverrides } from './envOverrides.js';
import { configSchema, type GatewayConfig } from './schema.js';

/** config/default.yaml, found from this file whether it runs from src/ (tests) or dist/src/. */
export function defaultConfigPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = resolve(dir, 'config', 'default.yaml');
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      dir = dirname(dir);
    }
  }
  throw new ConfigError('config/default.yaml not found beside the installation');
}

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; lists and scalars replace (a list of trunks is one value, not a patch). */
export function mergeConfig(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? mergeConfig(current, value) : value;
  }
  return out;
}

function readYaml(path: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    const first = String((error as Error).message).split('\n')[0];
    throw new ConfigError(`config file ${path} is not valid YAML: ${first}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isTree(doc)) throw new ConfigError(`config file ${path} must hold a mapping of sections`);
  return doc;
}

function describeReceived(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(tree: unknown, path: readonly PropertyKey[]): unknown {
  let node = tree;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** `media.rtpPortMin: expected an integer >= 1, got "abc"`; secrets are never echoed back. */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path.map(String).join('.') || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${path}.` : '';
    return `${where}${issue.keys[0]}: unknown setting`;
  }
  const secret = /key|secret|token|password/i.test(path);
  const got = secret ? '' : `, got ${describeReceived(valueAt(raw, issue.path))}`;
  return `${path}: ${issue.message}${got}`;
}

export interface LoadConfigInput {
  /** The file given with --config or GATEWAY_CONFIG, if any. */
  file?: string | undefined;
  env: NodeJS.ProcessEnv;
  defaultsFile?: string;
}

export function loadConfig(input: LoadConfigInput): GatewayConfig {
  const defaults = readYaml(input.defaultsFile ?? defaultConfigPath());
  const fromFile = input.file ? mergeConfig(defaults, readYaml(input.file)) : defaults;
  const raw = applyEnvOverrides(fromFile, input.env);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    throw new ConfigError(first ? describeIssue(first, raw) : 'invalid configuration');
  }
  return parsed.data;
}

/** `--config FILE` / `--config=FILE` on the command line, else GATEWAY_CONFIG. */
export function configFileFrom(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (const [index, arg] of argv.entries()) {
    if (arg === '--config') {
      const next = argv[index + 1];
      if (!next) throw new ConfigError('--config needs a file path');
      return next;
    }
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return env.GATEWAY_CONFIG || undefined;
}
