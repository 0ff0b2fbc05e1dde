import { rmsDbfs } from './tone.js';

/*
 * Presence, not continuity: these find where a tone plays so its frequency and level can be
 * judged. Continuity (gaps, broken frames) is audioContinuity.ts's; the SDES-SRTP baresip test
 * still uses these and should move to it.
 */

/**
 * The longest unbroken stretch of sound (20 ms blocks above -30 dBFS) in `samples`.
 */
export function longestSound(samples: Int16Array, sampleRate: number): Int16Array {
  const block = sampleRate / 50;
  let best = { start: 0, end: 0 };
  let start = 0;
  for (let i = 0; i * block < samples.length; i++) {
    const end = Math.min(samples.length, (i + 1) * block);
    if (rmsDbfs(samples.subarray(i * block, end)) < -30) start = end;
    else if (end - start > best.end - best.start) best = { start, end };
  }
  return samples.subarray(best.start, best.end);
}

/**
 * Records windows of a direction's audio until one carries at least 250 ms of unbroken sound, and
 * returns that sound (or, after 15 s, the longest found). A loaded machine drops a frame now and
 * then, and a stream can pause in its first moments: a tone is judged where it plays unbroken.
 */
export async function unbrokenSound(
  record: () => Promise<Int16Array>,
  sampleRate: number,
): Promise<Int16Array> {
  const deadline = Date.now() + 15_000;
  let longest: Int16Array = new Int16Array(0);
  do {
    const sound = longestSound(await record(), sampleRate);
    if (sound.length > longest.length) longest = sound;
  } while (longest.length < sampleRate / 4 && Date.now() < deadline);
  return longest;
}
