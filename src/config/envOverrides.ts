import { ConfigError } from './configError.js';

const PREFIX = 'GATEWAY_';
const SEPARATOR = '__';

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** SNAKE_CASE env segment → the camelCase key it means, matched against the keys that exist. */
function matchKey(segment: string, candidates: string[]): string | undefined {
  const wanted = segment.replaceAll('_', '').toLowerCase();
  return candidates.find((key) => key.toLowerCase() === wanted);
}

/**
 * Env values are strings; JSON lets a value be a number, boolean, null, list or object
 * (`GATEWAY_AUTH__KEYS='[{"key":…}]'`) while anything that is not JSON stays a string.
 */
function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Applies `GATEWAY_<SECTION>__<KEY>[__<KEY>…]` variables onto `base`, whose shape (the defaults)
 * tells which keys exist. A variable naming no key is an error rather than silently ignored:
 * a misspelt override that does nothing is worse than a refusal to start.
 */
export function applyEnvOverrides(base: Tree, env: NodeJS.ProcessEnv): Tree {
  const result = structuredClone(base);
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || !name.includes(SEPARATOR) || raw === undefined) continue;
    const segments = name.slice(PREFIX.length).split(SEPARATOR);
    let node: Tree = result;
    const path: string[] = [];
    for (const [index, segment] of segments.entries()) {
      const key = matchKey(segment, Object.keys(node));
      if (key === undefined) {
        const where = path.length ? path.join('.') : 'the top level';
        throw new ConfigError(`${name}: there is no setting "${segment.toLowerCase()}" in ${where}`);
      }
      path.push(key);
      if (index === segments.length - 1) {
        node[key] = parseValue(raw);
      } else {
        const child = node[key];
        if (!isTree(child)) throw new ConfigError(`${name}: ${path.join('.')} is not a section`);
        node = child;
      }
    }
  }
  return result;
}
