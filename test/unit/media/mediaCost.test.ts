import { describe, expect, it } from 'vitest';
import { measureMediaCost } from './mediaCostTable.js';

// A measurement, not a test: it runs only when asked for (see mediaCostTable.ts).
describe.runIf(process.env.MEDIA_COST === '1')('media cost per 20 ms frame', () => {
  it('measures codecs, resampling, jitter buffer and RTP', () => {
    const rows = measureMediaCost();
    console.table(rows);
    expect(rows.length).toBeGreaterThan(5);
  });
});
