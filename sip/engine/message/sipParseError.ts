/**
 * The only error the message layer throws. `reason` is short and safe to echo back as the reason
 * phrase of a 400 (or 505/413), so it never contains message bytes.
 */
export class SipParseError extends Error {
  readonly reason: string;
  readonly status: number;

  constructor(reason: string, status = 400) {
    super(reason);
    this.name = 'SipParseError';
    this.reason = reason;
    this.status = status;
  }
}
