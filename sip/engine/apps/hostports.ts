import { isIPv6 } from 'node:net';

/** One SIP transport the engine listens on, as the apps layer reports it. */
export interface ListenHostport {
  protocol: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  host: string;
  port: number;
  /** Public address advertised instead of host (drachtio-server's `--external-ip`). */
  externalIp?: string;
}

/**
 * drachtio-server's SipTransport::getHostport: `<protocol>/<host>:<port>`, the external IP replacing
 * the host when set. srf hands the comma-joined list to the app's `connect` listener as `hostport`;
 * apps split it to learn where to send SIP (jambonz picks the udp entry, for example).
 */
export function formatHostport(h: ListenHostport): string {
  const host = h.externalIp !== undefined && h.externalIp !== '' ? h.externalIp : h.host;
  const hostPart = isIPv6(host) ? `[${host}]` : host;
  return `${h.protocol}/${hostPart}:${h.port}`;
}

export function formatHostports(list: readonly ListenHostport[]): string[] {
  return list.map(formatHostport);
}
