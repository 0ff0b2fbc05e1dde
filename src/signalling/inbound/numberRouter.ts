import { E164 } from '../../config/sipSchema.js';

/**
 * The called number of an INVITE in E.164: the user part of the request-URI (`sip:+15550100@…`,
 * `tel:+15550100`), with visual separators removed and a missing `+` added for digit strings
 * that are long enough to be international numbers.
 */
export function calledNumber(requestUri: string): string | undefined {
  const match = /^(?:sips?:([^@;?]+)@|tel:([^;?]+))/i.exec(requestUri.trim());
  const user = match?.[1] ?? match?.[2];
  if (!user) return undefined;
  let digits = decodeURIComponent(user).replace(/[\s().-]/g, '');
  if (/^[0-9]{7,15}$/.test(digits)) digits = `+${digits}`;
  return E164.test(digits) ? digits : undefined;
}

/** Called numbers → the app that takes their calls. */
export class NumberRouter {
  private readonly apps = new Map<string, string>();

  constructor(numbers: readonly { number: string; appId: string }[]) {
    for (const { number, appId } of numbers) this.apps.set(number, appId);
  }

  appFor(number: string): string | undefined {
    return this.apps.get(number);
  }
}
