/**
 * How deep JSON nests, measured without recursion: a body nested thousands of levels deep must
 * cost a linear scan, never a deep call stack (JSON.stringify, zod, our own walkers all recurse).
 * Depth counts containers: `{}` is 1, `{"a":[1]}` is 2; scalars add nothing.
 */

export interface TooDeep {
  /** The top-level key under which the limit was passed, when the text is an object. */
  key?: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

function decodeKey(text: string, start: number, end: number): string | undefined {
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return undefined;
  }
}

/**
 * Scans JSON text (before JSON.parse) for containers nested deeper than `maxDepth`. Text that is
 * not JSON scans to some answer or none; JSON.parse still has the last word on syntax.
 */
export function findTooDeepText(text: string, maxDepth: number): TooDeep | undefined {
  let depth = 0;
  let rootIsObject = false;
  let inString = false;
  let stringStart = -1;
  // The last string closed at depth 1, and the key it became once a colon followed it.
  let lastStart = -1;
  let lastEnd = -1;
  let keyStart = -1;
  let keyEnd = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) {
        inString = false;
        if (depth === 1) {
          lastStart = stringStart;
          lastEnd = i;
        }
      }
      continue;
    }
    if (c === QUOTE) {
      inString = true;
      stringStart = i;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth === 1) rootIsObject = c === OPEN_BRACE;
      if (depth > maxDepth) {
        const key = rootIsObject && keyStart >= 0 ? decodeKey(text, keyStart, keyEnd) : undefined;
        return key === undefined ? {} : { key };
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if (c === COLON && depth === 1) {
      keyStart = lastStart;
      keyEnd = lastEnd;
    }
  }
  return undefined;
}

/** Whether a parsed value has containers nested deeper than `maxDepth` (itself counting as 1). */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}
