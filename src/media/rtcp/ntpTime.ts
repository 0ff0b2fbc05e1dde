/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2_208_988_800;

export interface NtpTimestamp {
  seconds: number;
  fraction: number;
}

/** A wall-clock time (ms since the Unix epoch) as a 64-bit NTP timestamp. */
export function ntpFromUnixMs(unixMs: number): NtpTimestamp {
  const totalSeconds = unixMs / 1000 + NTP_UNIX_OFFSET;
  const seconds = Math.floor(totalSeconds);
  const fraction = Math.floor((totalSeconds - seconds) * 2 ** 32);
  return { seconds: seconds >>> 0, fraction: fraction >>> 0 };
}

/** The middle 32 bits of an NTP timestamp: the "compact" form LSR and RTT use (1/65536 s units). */
export function ntpMiddle32(ntp: NtpTimestamp): number {
  return (((ntp.seconds & 0xffff) << 16) | (ntp.fraction >>> 16)) >>> 0;
}
