/**
 * drachtio-server stamps every message it reports with the wall-clock time of day, UTC,
 * as `HH:MM:SS.uuuuuu` (SipMsgData_t). srf passes it through as `req.stackTime`.
 */
export function formatWireTime(epochMicros: bigint): string {
  const micros = Number(epochMicros % 1_000_000n);
  const seconds = Number((epochMicros / 1_000_000n) % 86_400n);
  const hh = Math.floor(seconds / 3600);
  const mm = Math.floor((seconds % 3600) / 60);
  const ss = seconds % 60;
  return `${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}.${pad(micros, 6)}`;
}

/** Current time in wire format; microseconds come from the ms clock, as precise as we need. */
export function wireTimeNow(nowMs: number = Date.now()): string {
  return formatWireTime(BigInt(Math.floor(nowMs)) * 1000n);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
