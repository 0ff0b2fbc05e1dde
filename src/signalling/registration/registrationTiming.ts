import { splitHeaderList } from '../splitHeaderList.js';
import type { RegistrationTiming } from './registrationTypes.js';

/**
 * When to refresh a binding the registrar granted for `grantedSeconds`: at the earlier of half
 * the time and `refreshMarginMs` before it ends, but not sooner than `refreshFloorMs`.
 */
export function refreshDelayMs(
  grantedSeconds: number,
  timing: Pick<RegistrationTiming, 'refreshMarginMs' | 'refreshFloorMs'>,
): number {
  const grantedMs = grantedSeconds * 1000;
  return Math.max(timing.refreshFloorMs, Math.min(grantedMs / 2, grantedMs - timing.refreshMarginMs));
}

/**
 * How long to wait after the `failures`-th failure in a row (1 for the first): `retryInitialMs`
 * doubled per further failure, capped at `retryMaxMs`, then shortened by up to `retryJitter` of
 * itself (`random` in [0, 1)), so it never exceeds the cap.
 */
export function retryDelayMs(
  failures: number,
  timing: Pick<RegistrationTiming, 'retryInitialMs' | 'retryMaxMs' | 'retryJitter'>,
  random: () => number = Math.random,
): number {
  const doublings = Math.max(0, Math.min(failures - 1, 30));
  const base = Math.min(timing.retryMaxMs, timing.retryInitialMs * 2 ** doublings);
  return Math.round(base * (1 - timing.retryJitter * random()));
}

/** A header's delta-seconds value (`Expires: 60`, `Min-Expires: 120`); undefined if it is not one. */
export function deltaSeconds(value: string | undefined): number | undefined {
  const text = value?.trim();
  if (!text || !/^[0-9]{1,10}$/.test(text)) return undefined;
  return Number(text);
}

interface ContactEntry {
  /** `user@host:port` lower-cased, the default port filled in: what two spellings of one contact share. */
  key: string | undefined;
  expires: number | undefined;
}

function contactKey(uri: string): string | undefined {
  const match = /^sips?:(?:([^@]*)@)?(\[[^\]]+\]|[^:;?>]+)(?::([0-9]+))?/i.exec(uri.trim());
  if (!match) return undefined;
  const secure = /^sips:/i.test(uri) || /;transport=tls/i.test(uri);
  const port = match[3] ?? (secure ? '5061' : '5060');
  return `${match[1] ?? ''}@${match[2]}:${port}`.toLowerCase();
}

function parseContact(value: string): ContactEntry {
  const angle = /^[^<]*<([^>]*)>(.*)$/.exec(value);
  // Without angle brackets, parameters after the URI are the header's (RFC 3261 §20.10).
  const [uri, params] = angle ? [angle[1] ?? '', angle[2] ?? ''] : [value.split(';')[0] ?? '', value];
  const expires = /;\s*expires\s*=\s*"?([0-9]+)"?/i.exec(params)?.[1];
  return { key: contactKey(uri), expires: expires === undefined ? undefined : Number(expires) };
}

/**
 * The binding the registrar granted (RFC 3261 §10.2.4): the `expires` parameter of our Contact in
 * the 2xx (the one only Contact when the registrar rewrote ours, as behind NAT), else the Expires
 * header, else what we asked for.
 */
export function grantedSeconds(
  response: { get(header: string): string | undefined },
  sentContact: string | undefined,
  requested: number,
): number {
  const contacts = splitHeaderList(response.get('Contact') ?? '').map(parseContact);
  const ours = sentContact ? parseContact(sentContact).key : undefined;
  const mine =
    contacts.find((contact) => ours !== undefined && contact.key === ours) ??
    (contacts.length === 1 ? contacts[0] : undefined);
  return mine?.expires ?? deltaSeconds(response.get('Expires')) ?? requested;
}
