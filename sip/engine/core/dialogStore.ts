import type { AppConnection } from '../apps/AppConnection.js';
import type { SipMessage } from '../message/messageTypes.js';
import { parseNameAddr } from '../message/nameAddr.js';
import { dialogIdOf } from '../wire/sipMeta.js';
import type { Dialog } from './dialogTypes.js';

/** Tag of the From or To header, or '' when absent or unparseable. */
export function tagOf(message: SipMessage, header: 'From' | 'To'): string {
  try {
    return parseNameAddr(message.headers.get(header) ?? '').params.get('tag') ?? '';
  } catch {
    return '';
  }
}

/** The dialogs the engine holds, keyed by drachtio dialog id. */
export class DialogStore {
  private readonly dialogs = new Map<string, Dialog>();

  get size(): number {
    return this.dialogs.size;
  }

  get(id: string): Dialog | undefined {
    return this.dialogs.get(id);
  }

  add(dialog: Dialog): void {
    this.dialogs.set(dialog.id, dialog);
  }

  /**
   * The dialog an in-dialog request from the network belongs to. If we were the UAS its From tag is
   * the UAC tag; if we were the UAC our tag is in its To. Local and remote tags must both match.
   */
  findForRequest(message: SipMessage): Dialog | undefined {
    const callId = message.headers.get('Call-ID') ?? '';
    const fromTag = tagOf(message, 'From');
    const toTag = tagOf(message, 'To');
    for (const id of [dialogIdOf(callId, fromTag), dialogIdOf(callId, toTag)]) {
      const d = this.dialogs.get(id);
      if (d && d.localTag === toTag && d.remoteTag === fromTag) return d;
    }
    return undefined;
  }

  /** Removes a dialog and stops what it was running. Returns false when it was already gone. */
  remove(id: string): boolean {
    const d = this.dialogs.get(id);
    if (!d) return false;
    d.okRetransmitter?.stop();
    d.okRetransmitter = undefined;
    this.dialogs.delete(id);
    return true;
  }

  ownedBy(app: AppConnection): Dialog[] {
    return [...this.dialogs.values()].filter((d) => d.app === app);
  }

  all(): Dialog[] {
    return [...this.dialogs.values()];
  }

  clear(): void {
    for (const id of [...this.dialogs.keys()]) this.remove(id);
  }
}
