/** Types of the drachtio wire protocol messages (bodies after the `<length>#` frame prefix). */

/** A body split into its `|`-separated leader and the optional SIP message after the first CRLF. */
export interface WireMessage {
  msgId: string;
  type: string;
  /** Tokens after msgId and type. */
  args: string[];
  /** The raw SIP message after `\r\n`, if the body had one. */
  sip?: string;
}

// ---- app → server ----------------------------------------------------------------------------

export interface AuthenticateCommand {
  kind: 'authenticate';
  msgId: string;
  secret: string;
  /** Tags from `new Srf(['tag'])`; drachtio-server uses them for tag-based routing. */
  tags: string[];
}

export interface RouteCommand {
  kind: 'route';
  msgId: string;
  /** Lower-cased method (`invite`) or cdr event (`cdr:attempt`, `cdr:start`, `cdr:stop`). */
  verb: string;
}

export interface RemoveRouteCommand {
  kind: 'remove_route';
  msgId: string;
  verb: string;
}

export interface PingCommand {
  kind: 'ping';
  msgId: string;
}

/**
 * `sip|<txnId>|<dialogId>[|<routeUrl>]\r\n<SIP>` from the app. Meaning (drachtio-server client.cpp):
 * a status line → response in transaction txnId; else dialogId set → request inside that dialog;
 * else txnId set and CANCEL → cancel that outgoing INVITE; else a new request.
 */
export interface SipCommand {
  kind: 'sip';
  msgId: string;
  txnId: string;
  dialogId: string;
  /** srf's `proxy` option of createUAC/request: send the request via this URI. */
  routeUrl: string;
  rawSip: string;
}

/** `proxy|<txnId>|remainInDialog|fullResponse|followRedirects|simultaneous|<prov>|<final>|<dest>…` */
export interface ProxyCommand {
  kind: 'proxy';
  msgId: string;
  txnId: string;
  remainInDialog: boolean;
  fullResponse: boolean;
  followRedirects: boolean;
  simultaneous: boolean;
  provisionalTimeout: string;
  finalTimeout: string;
  destinations: string[];
  rawSip: string;
}

export interface UnknownCommand {
  kind: 'unknown';
  msgId: string;
  type: string;
}

export type AppCommand =
  | AuthenticateCommand
  | RouteCommand
  | RemoveRouteCommand
  | PingCommand
  | SipCommand
  | ProxyCommand
  | UnknownCommand;

// ---- server → app ----------------------------------------------------------------------------

export type MessageSource = 'network' | 'application';

export type WireProtocolName = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' | '';

/**
 * drachtio-server's SipMsgData_t: `<source>|<bytes>|<protocol>|<address>|<port>|<time>`.
 * For messages from the network address/port are the sender; for messages the server sent on behalf
 * of the app they are the local transport the message left on.
 */
export interface SipMessageMeta {
  source: MessageSource;
  /** Size of the SIP message in bytes. */
  bytes: number;
  protocol: WireProtocolName;
  address: string;
  port: number;
  /** `HH:MM:SS.uuuuuu`, UTC (see wireTime.ts). */
  time: string;
}

/** Local address/port a network request arrived on; srf exposes it as `req.receivedOn`. */
export interface ReceivedOn {
  address: string;
  port: number;
}

export type CdrEvent = 'attempt' | 'start' | 'stop';

export type CdrRole = 'undefined' | 'proxy-uac' | 'proxy-uas' | 'uac' | 'uas';

export type CdrTerminationReason =
  | 'undefined'
  | 'call-rejected'
  | 'call-canceled'
  | 'normal-release'
  | 'session-expired'
  | 'system-initiated-termination'
  | 'system-error-initiated-termination';

/** A parsed server → app message, mainly for tests and tools that play the app side. */
export type ServerMessage =
  | { kind: 'response'; msgId: string; requestMsgId: string; ok: boolean; args: string[]; rawSip?: string }
  | {
      kind: 'sip';
      msgId: string;
      meta: SipMessageMeta;
      txnId: string;
      dialogId: string;
      receivedOn?: ReceivedOn;
      rawSip: string;
    }
  | {
      kind: 'cdr';
      msgId: string;
      event: CdrEvent;
      source: MessageSource;
      time: string;
      detail?: string;
      rawSip: string;
    };
