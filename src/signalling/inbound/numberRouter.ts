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

type NumberEntry = { number: string; appId: string; trunk?: string | undefined };

/**
 * Called numbers → the app that takes their calls. Given a function, it reads the numbers live
 * (the routing API's changes). A number with a `trunk` is taken only from that trunk.
 */
export class NumberRouter {
  private apps = new Map<string, NumberEntry>();
  private built: readonly NumberEntry[] | undefined;
  private readonly source: () => readonly NumberEntry[];

  constructor(numbers: readonly NumberEntry[] | (() => readonly NumberEntry[])) {
    this.source = typeof numbers === 'function' ? numbers : () => numbers;
  }

  /** The number's app; undefined when none takes it, or (trunk given) not from that trunk. */
  appFor(number: string, trunk?: string): string | undefined {
    const numbers = this.source();
    if (numbers !== this.built) {
      this.built = numbers;
      this.apps = new Map(numbers.map((entry) => [entry.number, entry]));
    }
    const entry = this.apps.get(number);
    if (!entry || (entry.trunk !== undefined && trunk !== undefined && entry.trunk !== trunk))
      return undefined;
    return entry.appId;
  }
}
