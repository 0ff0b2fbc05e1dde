import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameClock } from '../../../src/media/session/frameClock.js';

describe('FrameClock', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks every listener once per 20 ms without drifting, and stops with its last listener', () => {
    const clock = new FrameClock({ now: () => Date.now() });
    const a: number[] = [];
    const b: number[] = [];
    const listenerA = (now: number): void => void a.push(now);
    clock.add(listenerA);
    clock.add((now) => void b.push(now));
    vi.advanceTimersByTime(1000);
    expect(a.length).toBe(50);
    expect(b.length).toBe(50);
    clock.delete(listenerA);
    vi.advanceTimersByTime(100);
    expect(a.length).toBe(50);
    expect(b.length).toBe(55);
    expect(clock.size).toBe(1);
  });

  it('catches up a short stall tick by tick and skips a long one', () => {
    let now = 0;
    const clock = new FrameClock({ now: () => now, maxCatchUp: 5 });
    let ticks = 0;
    clock.add(() => ticks++);
    now = 20;
    vi.advanceTimersByTime(20);
    expect(ticks).toBe(1);
    // The next firing comes 70 ms late: it runs the three ticks that fell due.
    now = 90;
    vi.advanceTimersByTime(20);
    expect(ticks).toBe(4);
    // A 2 s stall: only five ticks, not a hundred.
    now = 2090;
    vi.advanceTimersByTime(10);
    expect(ticks).toBe(9);
  });

  it('keeps ticking the others when one listener throws', () => {
    const errors: unknown[] = [];
    const clock = new FrameClock({ now: () => Date.now(), onError: (error) => errors.push(error) });
    let ticks = 0;
    clock.add(() => {
      throw new Error('boom');
    });
    clock.add(() => ticks++);
    vi.advanceTimersByTime(100);
    expect(ticks).toBe(5);
    expect(errors).toHaveLength(5);
    clock.stop();
  });
});
