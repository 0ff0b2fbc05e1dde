import type { MessageSource } from '../transport/transportTypes.js';
import type { CoreDeps, PendingClientRequest, PendingServerRequest } from './coreTypes.js';
import { DialogStore } from './dialogStore.js';
import { MessageStats } from './messageStats.js';

/**
 * State the core's parts share: the dialogs, the transactions handed to or started for apps, and
 * message statistics. One per engine; passed to each part's constructor.
 */
export class CoreContext {
  readonly dialogs = new DialogStore();
  /** Network requests given to apps, by the txnId the app answers with. */
  readonly serverRequests = new Map<string, PendingServerRequest>();
  /** Requests sent for apps, by the txnId reported to the app. */
  readonly clientRequests = new Map<string, PendingClientRequest>();
  readonly stats = new MessageStats();
  /**
   * Source of the message being dispatched. The transaction layer hands responses to client
   * transactions synchronously from the transport event, so this names where a response came from.
   */
  currentSource: MessageSource | undefined;

  constructor(readonly deps: CoreDeps) {}
}
