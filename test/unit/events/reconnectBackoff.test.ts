import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from '../../../src/control/events/reconnectBackoff.js';

describe('reconnectDelayMs', () => {
  const options = { minMs: 100, maxMs: 5000 };

  it('doubles from the minimum and stops at the maximum', () => {
    const top = (attempt: number) => reconnectDelayMs(attempt, { ...options, random: () => 0.999999 });
    expect([0, 1, 2, 3, 4, 5, 6, 60].map(top)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('jitters between half and all of the step', () => {
    expect(reconnectDelayMs(3, { ...options, random: () => 0 })).toBe(400);
    expect(reconnectDelayMs(3, { ...options, random: () => 0.5 })).toBe(600);
    for (let i = 0; i < 100; i++) {
      const delay = reconnectDelayMs(10, options);
      expect(delay).toBeGreaterThanOrEqual(2500);
      expect(delay).toBeLessThanOrEqual(5000);
    }
  });
});
