/** RFC 3711 §3.3.2 asks for at least 64; a larger window costs nothing and tolerates jittery paths. */
const WINDOW = 128;

/**
 * The replay list of one SSRC (RFC 3711 §3.3.2): indices at most WINDOW behind the highest seen
 * are remembered; anything older, or seen already, is a replay. `accepts` is asked before the
 * packet is authenticated and `record` only after, so forged packets do not move the window.
 */
export class ReplayWindow {
  private highest = -1;
  private readonly seen = new Float64Array(WINDOW).fill(-1);

  accepts(index: number): boolean {
    if (index > this.highest) return true;
    if (this.highest - index >= WINDOW) return false;
    return this.seen[index % WINDOW] !== index;
  }

  record(index: number): void {
    this.seen[index % WINDOW] = index;
    if (index > this.highest) this.highest = index;
  }
}
