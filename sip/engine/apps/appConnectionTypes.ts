import type { Socket } from 'node:net';
import type {
  CdrEvent,
  CdrRole,
  CdrTerminationReason,
  MessageSource,
  ProxyCommand,
  ReceivedOn,
  SipCommand,
  SipMessageMeta,
} from '../wire/wireTypes.js';
import type { AppsLogger } from './appsLogger.js';

export interface AppConnectionOptions {
  socket: Socket;
  /** Stable id for logs and maps (e.g. `app-3`). */
  id: string;
  /** Checks the shared secret an app presents; kept outside so the secret lives in one place. */
  verifySecret: (candidate: string) => boolean;
  /** `vX.Y.Z`, see serverVersion.ts. */
  version: string;
  /** Read at authentication time so transports bound to port 0 report their real ports. */
  hostports: () => readonly string[];
  /** Fresh message id per server message (drachtio-server uses UUIDs). */
  newMsgId: () => string;
  logger: AppsLogger;
  maxFrameBytes?: number;
}

export type AppConnectionState = 'connecting' | 'authenticated' | 'closed';

/** A SIP message for the app, in the `sip|…` layout (serverMessages.buildSipMessage). */
export interface SipNotification {
  meta: SipMessageMeta;
  txnId: string;
  dialogId: string;
  rawSip: string;
  receivedOn?: ReceivedOn;
}

export interface CdrNotification {
  event: CdrEvent;
  source: MessageSource;
  time: string;
  rawSip: string;
  /** Role for `start`, termination reason for `stop`. */
  detail?: CdrRole | CdrTerminationReason;
}

/** Why a connection closed, for logs and metrics. */
export type AppCloseReason =
  | 'peer-closed'
  | 'incorrect-secret'
  | 'not-authenticated'
  | 'bad-frame'
  | 'bad-message'
  | 'unknown-command'
  | 'socket-error'
  | 'server-closing';

export interface AppConnectionEvents {
  authenticated: [];
  route: [verb: string];
  removeRoute: [verb: string];
  /** A `sip` command; the core must answer it with ackRequestSent / ackResponseSent / reject. */
  sip: [command: SipCommand];
  /** A `proxy` command; the engine does not proxy, so the core normally rejects it. */
  proxy: [command: ProxyCommand];
  ping: [];
  close: [reason: AppCloseReason];
}
