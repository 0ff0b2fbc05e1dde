import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WriteBacklog } from '../../../src/store/writeBacklog.js';

describe('WriteBacklog', () => {
  it('refuses new work while writes wait past the limit, and takes it again once they commit', () => {
    let pending = 0;
    const gate = new WriteBacklog({ pendingWrites: () => pending }, 3, pino({ level: 'silent' }));
    expect(gate.canAcceptWork()).toBe(true);
    pending = 3;
    expect(gate.canAcceptWork()).toBe(false);
    pending = 2;
    expect(gate.canAcceptWork()).toBe(true);
  });
});
