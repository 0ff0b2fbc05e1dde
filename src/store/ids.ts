import KSUID from 'ksuid';

/**
 * Resource ids are a type prefix and a KSUID: 27 base62 characters that sort by creation time,
 * so ids double as a rough creation order in logs and listings.
 */
export function newId(prefix: string): string {
  return `${prefix}${KSUID.randomSync().string}`;
}
