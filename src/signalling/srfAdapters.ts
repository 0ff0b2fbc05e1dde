import type Srf from 'drachtio-srf';
import type { SendInvite } from './outbound/uacInvite.js';
import type { SendRequest } from './registration/registrationTypes.js';
import type { RecordableDialog } from './sipLegJournal.js';
import type { InboundRequest, InboundResponse, SipDialog } from './srfTypes.js';

/** srf's answer to an INVITE, in its callback form (see `createUas`). */
export type CreateUas = (
  req: InboundRequest,
  res: InboundResponse,
  localSdp: string,
  done: (error: Error | undefined, dialog?: SipDialog & RecordableDialog) => void,
  /** Headers of the 200 OK (Session-Expires, Require: timer). */
  headers?: Record<string, string>,
) => void;

/**
 * The srf calls the gateway makes, typed as it uses them. srf's own typings describe its
 * request and response objects loosely and its dialogs without the parts the gateway reads
 * (`source_address`, `stackTxnId`, `connected`, `sip`), so the casts between the two live here
 * and nowhere else.
 */
export interface SrfCalls {
  onInvite(handler: (req: InboundRequest, res: InboundResponse) => void): void;
  /** OPTIONS outside a dialog: a proxy's liveness probe (Kamailio's dispatcher). */
  onOptions(handler: (req: InboundRequest, res: InboundResponse) => void): void;
  /**
   * The callback form of createUAS on purpose: srf calls it before it reads the next message,
   * where its promise resolves a few microtasks later, after an ACK and a re-INVITE read in one
   * chunk have met a dialog with no listeners.
   */
  createUas: CreateUas;
  createUac: SendInvite;
  /** srf.request (a request outside any dialog: REGISTER), in its callback form for the reason above. */
  request: SendRequest;
}

export function srfCalls(srf: Srf): SrfCalls {
  return {
    onInvite: (handler) =>
      srf.invite((req, res) => handler(req as unknown as InboundRequest, res as unknown as InboundResponse)),
    onOptions: (handler) => {
      // srf defines a method per SIP method at runtime; its typings leave out options.
      const options = (srf as unknown as { options(h: (req: unknown, res: unknown) => void): void }).options;
      options.call(srf, (req, res) => handler(req as InboundRequest, res as InboundResponse));
    },
    createUas: (req, res, localSdp, done, headers) => {
      const createUAS = srf.createUAS.bind(srf) as unknown as (
        req: InboundRequest,
        res: InboundResponse,
        options: { localSdp: string; headers?: Record<string, string> },
        callback: (error: Error | undefined, dialog: SipDialog & RecordableDialog) => void,
      ) => unknown;
      createUAS(req, res, { localSdp, ...(headers ? { headers } : {}) }, (error, dialog) =>
        done(error ?? undefined, dialog),
      );
    },
    createUac: (uri, options, progress) =>
      srf.createUAC(uri, options as never, progress as never) as unknown as ReturnType<SendInvite>,
    request: (uri, options, done) => {
      try {
        const request = srf.request.bind(srf) as unknown as (
          uri: string,
          options: Parameters<SendRequest>[1],
          callback: Parameters<SendRequest>[2],
        ) => unknown;
        request(uri, { ...options }, done);
      } catch (error) {
        // srf throws, rather than calls back, when it has never connected.
        done(error instanceof Error ? error : new Error(String(error)), undefined);
      }
    },
  };
}
