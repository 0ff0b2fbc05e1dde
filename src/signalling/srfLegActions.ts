import type Srf from 'drachtio-srf';
import type { LegActions } from './orphanedLegs.js';

/** srf's lower layer, for the one message srf has no public call for (see `respond`). */
interface SrfAgent {
  sendMessage(message: string, options: { stackTxnId: string; headers: Record<string, string> }): void;
}

/**
 * LegActions over drachtio-srf. A dialog or a transaction the SIP server holds is named by its
 * id, whichever app connection created it, in the embedded engine and in drachtio-server alike;
 * so a new process can BYE, CANCEL or answer what its predecessor left.
 *
 * Each request counts as done once the SIP server has sent it (it retransmits until answered):
 * drachtio-server reports the far end's answer to a request in another app's dialog to no one,
 * and srf never reports the answer to a CANCEL.
 */
export function srfLegActions(srf: Srf): LegActions {
  const send = (options: Record<string, unknown>): Promise<void> =>
    (srf as unknown as { request(o: Record<string, unknown>): Promise<unknown> })
      .request(options)
      .then(() => undefined);
  return {
    // The SIP server puts the dialog's remote target in place of the placeholder, as for srf's own
    // BYE; it refuses (the promise rejects) when it holds no such dialog.
    byeInDialog: (dialogId, headers) =>
      send({ uri: 'sip:placeholder', method: 'BYE', stackDialogId: dialogId, headers }),
    requestOutOfDialog: (uri, method, headers, nextHop) =>
      send({ uri, method, headers, ...(nextHop ? { proxy: nextHop } : {}) }),
    cancel: (txnId, uri) => send({ uri, method: 'CANCEL', stackTxnId: txnId }),
    respond: (txnId, status, reason, headers) => {
      // srf answers only requests it delivered to this process; a transaction another process
      // was handed is answered by id on srf's agent, as srf's own Response.send does.
      const agent = (srf as unknown as { app: { client: SrfAgent } }).app.client;
      agent.sendMessage(`SIP/2.0 ${status} ${reason}`, { stackTxnId: txnId, headers });
    },
  };
}
