import { describe, expect, it } from 'vitest';
import { Readiness } from '../../../src/observability/readiness.js';

/** Readiness: every probe decides it, but for advisory ones (shown, never deciding). */
describe('Readiness', () => {
  it('shows an advisory part that fails without making the gateway not ready', async () => {
    const readiness = new Readiness();
    readiness.add({ name: 'sip', check: () => true });
    readiness.add({ name: 'registration', advisory: true, check: () => 'trunk a: failed (403 Forbidden)' });
    expect(await readiness.report()).toEqual({
      ready: true,
      parts: {
        sip: { ok: true },
        registration: { ok: false, detail: 'trunk a: failed (403 Forbidden)', advisory: true },
      },
    });
  });

  it('leaves out an advisory part with nothing to report, and still fails on a required part', async () => {
    const readiness = new Readiness();
    readiness.add({ name: 'sip', check: () => 'no connection' });
    readiness.add({ name: 'registration', advisory: true, check: () => null });
    expect(await readiness.report()).toEqual({
      ready: false,
      parts: { sip: { ok: false, detail: 'no connection' } },
    });
  });

  it('reports an advisory part that passes as ok', async () => {
    const readiness = new Readiness();
    readiness.add({ name: 'registration', advisory: true, check: async () => true as const });
    readiness.startDraining();
    expect(await readiness.report()).toEqual({
      ready: false,
      parts: { registration: { ok: true, advisory: true }, shutdown: { ok: false, detail: 'shutting down' } },
    });
  });
});
