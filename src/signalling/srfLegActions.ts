import type Srf from 'drachtio-srf';
import type { LegActions } from './orphanedLegs.js';

/** A request srf sent: it reports the far end's answer as 'response'. */
interface SentRequest {
  on(event: 'response', listener: (response: { status: number }) => void): void;
}

/** srf's lower layer, for the one message srf has no public call for (see `respond`). */
interface SrfAgent {
  sendMessage(message: string, options: { stackTxnId: string; headers: Record<string, string> }): void;
}

/** How long to wait for the far end's answer to a BYE or CANCEL before calling it done. */
const ANSWER_TIMEOUT_MS = 32_000;

function sent(request: Promise<unknown>): Promise<void> {
  return request.then(
    (req) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ANSWER_TIMEOUT_MS);
        timer.unref();
        (req as SentRequest).on('response', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
  );
}

/**
 * LegActions over drachtio-srf. A dialog or a transaction the SIP server holds is named by its
 * id, whichever app connection created it, in the embedded engine and in drachtio-server alike;
 * so a new process can BYE, CANCEL or answer what its predecessor left.
 */
export function srfLegActions(srf: Srf): LegActions {
  const send = (options: Record<string, unknown>) =>
    (srf as unknown as { request(o: Record<string, unknown>): Promise<unknown> }).request(options);
  const request = (options: Record<string, unknown>) => sent(send(options));
  return {
    // The SIP server puts the dialog's remote target in place of the placeholder, as for srf's own BYE.
    byeInDialog: (dialogId, headers) =>
      request({ uri: 'sip:placeholder', method: 'BYE', stackDialogId: dialogId, headers }),
    requestOutOfDialog: (uri, method, headers, nextHop) =>
      request({ uri, method, headers, ...(nextHop ? { proxy: nextHop } : {}) }),
    // srf never reports the 200 to a CANCEL: done once it is sent.
    cancel: (txnId, uri) => send({ uri, method: 'CANCEL', stackTxnId: txnId }).then(() => undefined),
    respond: (txnId, status, reason, headers) => {
      // srf answers only requests it delivered to this process; a transaction another process
      // was handed is answered by id on srf's agent, as srf's own Response.send does.
      const agent = (srf as unknown as { app: { client: SrfAgent } }).app.client;
      agent.sendMessage(`SIP/2.0 ${status} ${reason}`, { stackTxnId: txnId, headers });
    },
  };
}
