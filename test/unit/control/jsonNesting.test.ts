import { describe, expect, it } from 'vitest';
import { findTooDeepText, nestsDeeperThan } from '../../../src/control/jsonNesting.js';

const nested = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);

describe('findTooDeepText', () => {
  it('passes text nested exactly to the limit and stops one level past it', () => {
    expect(findTooDeepText(nested(8), 8)).toBeUndefined();
    expect(findTooDeepText(nested(9), 8)).toEqual({});
  });

  it('counts brackets inside strings, escaped quotes included, as text', () => {
    const text = JSON.stringify({ note: `[[[[{{{{ \\" ${'['.repeat(50)}`, list: [[1]] });
    expect(findTooDeepText(text, 3)).toBeUndefined();
  });

  it('names the top-level key under which the nesting went too deep', () => {
    const text = `{"from":"+15550100","to":"[{[{","metadata":{"a":${nested(10)}}}`;
    expect(findTooDeepText(text, 5)).toEqual({ key: 'metadata' });
  });

  it('decodes an escaped key', () => {
    expect(findTooDeepText(`{"me\\u0074a":${nested(4)}}`, 3)).toEqual({ key: 'meta' });
  });

  it('scans a million levels without recursion, in linear time', () => {
    const started = performance.now();
    expect(findTooDeepText(nested(1_000_000), 64)).toEqual({});
    expect(findTooDeepText(`${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`, 64)).toEqual({ key: 'a' });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('nestsDeeperThan', () => {
  it('counts the value itself as level 1 and scalars as nothing', () => {
    expect(nestsDeeperThan({ a: 'x' }, 1)).toBe(false);
    expect(nestsDeeperThan({ a: { b: 'x' } }, 1)).toBe(true);
    expect(nestsDeeperThan({ a: [{ b: [] }] }, 4)).toBe(false);
    expect(nestsDeeperThan({ a: [{ b: [] }] }, 3)).toBe(true);
    expect(nestsDeeperThan('text', 0)).toBe(false);
  });

  it('walks 100,000 levels without overflowing the stack', () => {
    const deep = JSON.parse(nested(100_000));
    expect(nestsDeeperThan(deep, 16)).toBe(true);
  });
});
