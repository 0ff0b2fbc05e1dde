/**
 * The version the engine reports in its authenticate response. drachtio-srf parses it with
 * /^v(\d+)\.(\d+)\.(\d+)/ and pings only servers at least v0.8.2, so it must keep that form; the
 * number is the drachtio-server release whose wire behaviour the engine reproduces.
 */
export const DEFAULT_SERVER_VERSION = 'v0.8.10';

const VERSION_FORM = /^v\d+\.\d+\.\d+/;

export function isWireVersion(version: string): boolean {
  return VERSION_FORM.test(version) && !version.includes('|');
}
