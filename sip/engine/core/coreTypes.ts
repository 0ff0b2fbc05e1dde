import type { AppConnection } from '../apps/AppConnection.js';
import type { AppRegistry } from '../apps/AppRegistry.js';
import type { AppsLogger } from '../apps/appsLogger.js';
import type { SipRequest } from '../message/messageTypes.js';
import type { ClientTransaction } from '../transaction/clientTransaction.js';
import type { InviteClientTransaction } from '../transaction/inviteClientTransaction.js';
import type { ServerTransaction } from '../transaction/serverTransaction.js';
import type { TransactionLayer } from '../transaction/transactionLayer.js';
import type { TransportLayer } from '../transport/transportLayer.js';
import type { MessageSource } from '../transport/transportTypes.js';

/** What every part of the core is built from (constructor injection, no globals). */
export interface CoreDeps {
  transport: TransportLayer;
  transactions: TransactionLayer;
  registry: AppRegistry;
  logger: AppsLogger;
  /** Fresh transaction ids for apps (drachtio-server uses UUIDs). */
  newId: () => string;
  now: () => number;
}

/** A network request handed to an app, until its transaction ends. */
export interface PendingServerRequest {
  txnId: string;
  request: SipRequest;
  transaction: ServerTransaction;
  source: MessageSource;
  app: AppConnection;
  /** To-tag of every response we send in this transaction (one per transaction, RFC 3261 8.2.6.2). */
  toTag: string;
  /** Set once the request belongs to (or creates) a dialog. */
  dialogId: string;
  finalSent: boolean;
}

/** A request the engine sent for an app, until its transaction ends. */
export interface PendingClientRequest {
  txnId: string;
  request: SipRequest;
  transaction: ClientTransaction;
  app: AppConnection;
  dialogId: string;
  /** For INVITEs: set when a CANCEL was asked for. */
  canceled: boolean;
  /** For INVITEs: the early dialog of the latest reliable provisional (RFC 3262), for the app's PRACK. */
  early?: { remoteParty: string; remoteTarget: string; routeSet: string[] };
  /** For INVITEs: RSeq of the last reliable provisional passed to the app, by early dialog (To tag). */
  lastRSeq?: Map<string, number>;
  /** For INVITEs: CSeq of the last request we sent in its early dialog (PRACK). */
  earlyCseq?: number;
}

export type PendingInvite = PendingClientRequest & { transaction: InviteClientTransaction };

/** Numbers the engine exposes (metrics, leak checks in tests). */
export interface EngineCounts {
  transactions: number;
  inviteClientTransactions: number;
  inviteServerTransactions: number;
  nonInviteClientTransactions: number;
  nonInviteServerTransactions: number;
  dialogs: number;
  connections: number;
  tcpConnections: number;
  tlsConnections: number;
  apps: number;
  appConnections: number;
  pendingAppCommands: number;
  pendingServerRequests: number;
  pendingClientRequests: number;
  parseErrors: number;
}

/** Message totals by direction and method (requests) or status (responses). */
export interface MessageTotals {
  requestsIn: Record<string, number>;
  requestsOut: Record<string, number>;
  responsesIn: Record<string, number>;
  responsesOut: Record<string, number>;
}
