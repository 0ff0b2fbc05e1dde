import { formatParams, parseParams, type SipParams, splitOutside } from './params.js';
import { SipParseError } from './sipParseError.js';
import { formatHostPort, parseHostPort } from './sipUri.js';

/** RFC 3261 branch values start with this cookie; others come from RFC 2543 peers. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

export interface Via {
  /** e.g. `SIP/2.0` */
  protocol: string;
  /** Upper-cased: UDP, TCP, TLS, SCTP, WS, WSS. */
  transport: string;
  host: string;
  port?: number;
  params: SipParams;
}

export function parseVia(text: string): Via {
  const [head = '', ...rest] = splitOutside(text.trim(), ';');
  const m = /^([^\s/]+)\s*\/\s*([^\s/]+)\s*\/\s*([^\s/]+)\s+(.+)$/.exec(head.trim());
  if (!m) throw new SipParseError('bad Via');
  const [, name = '', version = '', transport = '', sentBy = ''] = m;
  if (!/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(transport)) throw new SipParseError('bad Via transport');
  // A trailing comment "(...)" after sent-by is legal but carries nothing we use.
  const { host, port } = parseHostPort(sentBy.replace(/\(.*\)\s*$/, ''), 'Via sent-by');
  const params =
    rest.length === 0 ? new Map<string, string | null>() : parseParams(rest.join(';'), 'Via parameter');
  const via: Via = {
    protocol: `${name.toUpperCase()}/${version}`,
    transport: transport.toUpperCase(),
    host,
    params,
  };
  if (port !== undefined) via.port = port;
  const rport = params.get('rport');
  if (rport !== undefined && rport !== null && !/^\d{1,5}$/.test(rport))
    throw new SipParseError('bad Via rport');
  return via;
}

export function formatVia(via: Via): string {
  return `${via.protocol}/${via.transport} ${formatHostPort(via.host, via.port)}${formatParams(via.params)}`;
}

export function viaBranch(via: Via): string | undefined {
  return via.params.get('branch') ?? undefined;
}

export function viaReceived(via: Via): string | undefined {
  return via.params.get('received') ?? undefined;
}

/** Port from `rport=N`; undefined when absent or present without a value. */
export function viaRport(via: Via): number | undefined {
  const v = via.params.get('rport');
  return v ? Number(v) : undefined;
}

/** Default port for a Via transport when sent-by has none (RFC 3261 18.1.1 / 19.1.2). */
export function defaultPortFor(transport: string): number {
  return transport.toUpperCase() === 'TLS' ? 5061 : 5060;
}

/** `host:port` as used in transaction matching; the port made explicit so `h` and `h:5060` match. */
export function viaSentBy(via: Via): string {
  return `${via.host.toLowerCase()}:${via.port ?? defaultPortFor(via.transport)}`;
}
