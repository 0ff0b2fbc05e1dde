import type { Logger } from 'pino';
import type { InboundRequest, InboundResponse } from './srfTypes.js';

/**
 * Call transfer by REFER (RFC 3515, RFC 5589 blind transfer) on an established dialog, both ways.
 *
 * Out: `refer` sends REFER (Refer-To, Referred-By) and follows the implicit subscription's NOTIFYs
 * (Event: refer, a message/sipfrag body, RFC 3420): each is answered 200; a 1xx sipfrag is
 * progress, a 2xx one is success, 3xx–6xx failure, and so is a REFER refused (any final response
 * other than 2xx), a subscription terminated without a final sipfrag, or no final NOTIFY in time.
 *
 * In: a REFER from the far end goes to the listener (`onRefer`), which accepts it (202, then
 * NOTIFYs with the progress of the new leg as sipfrag) or refuses it (403 and so on). With no
 * listener a REFER is refused 403: nothing transfers a call unless the call layer said it may.
 * One that comes before the call layer listens (a REFER read with the ACK) waits for it a moment
 * (`LISTENER_WAIT_MS`) before that 403.
 */

/** How long a REFER waits for a listener before it is refused 403. */
export const LISTENER_WAIT_MS = 500;

/** The srf Dialog calls this needs. */
export interface ReferDialog {
  readonly local?: { uri?: string };
  on(event: 'refer' | 'notify', listener: (req: InboundRequest, res: InboundResponse) => void): void;
  request(options: {
    method: string;
    headers?: Record<string, string>;
    body?: string;
  }): Promise<{ status: number; reason?: string }>;
}

/** How an outgoing REFER ended. */
export type ReferOutcome =
  | { result: 'completed'; status: number; reason: string }
  | {
      result: 'failed';
      /** refer: the REFER itself was refused; notify: a failure sipfrag; timeout: no final NOTIFY. */
      stage: 'refer' | 'notify' | 'timeout';
      /** The SIP status that failed it (of the REFER's response or the sipfrag); null on timeout. */
      status: number | null;
      reason: string;
    };

export interface ReferRequest {
  /** The transfer target, a SIP URI (`sip:+15550123@carrier.example`). */
  referTo: string;
  /** Who asks for the transfer (our identity); default: the dialog's local URI. */
  referredBy?: string | undefined;
  /** Gives up waiting for the final NOTIFY after this long. */
  timeoutMs: number;
  /** The REFER was accepted (202): the far end is trying the target. */
  onAccepted?: (status: number) => void;
}

/** A REFER the far end sent us, for the call layer to carry out or refuse. */
export interface IncomingRefer {
  /** The Refer-To URI, without its angle brackets and header parameters. */
  readonly referTo: string;
  readonly referredBy: string | undefined;
  /** 202 Accepted and a first NOTIFY "100 Trying"; the returned notifier reports the rest. */
  accept(): ReferNotifier;
  /** A final response refusing it (403 Forbidden, 400…). */
  refuse(status: number, reason?: string): void;
}

export interface ReferNotifier {
  /**
   * A NOTIFY with `SIP/2.0 <status> <reason>` as sipfrag; a final (≥ 200) one ends the
   * subscription. NOTIFYs go out in order; resolves once this one was answered (or failed, logged).
   */
  notify(status: number, reason: string): Promise<void>;
}

const SIPFRAG_STATUS = /^SIP\/2\.0\s+(\d{3})(?:\s+([^\r\n]*))?/;
const SIPFRAG_TYPE = 'message/sipfrag;version=2.0';

/** The status line of a message/sipfrag body, if it has one. */
export function sipfragStatus(body: string): { status: number; reason: string } | undefined {
  const match = SIPFRAG_STATUS.exec(body.trimStart());
  return match ? { status: Number(match[1]), reason: (match[2] ?? '').trim() } : undefined;
}

/** The URI of a Refer-To (or Referred-By) header: `<sip:x@y?Replaces=…>;p` → `sip:x@y`. */
export function headerUri(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const inBrackets = /<([^>]*)>/.exec(value);
  const uri = (inBrackets ? inBrackets[1] : value.split(';')[0])?.trim() ?? '';
  const withoutHeaders = uri.split('?')[0] ?? '';
  return withoutHeaders === '' ? undefined : withoutHeaders;
}

interface Pending {
  finish(outcome: ReferOutcome): void;
  notified(status: number, reason: string, terminated: boolean): void;
}

/** REFER and its NOTIFYs on one dialog (see the file's comment). */
export class SipDialogTransfers {
  private pending: Pending | undefined;
  /** NOTIFYs go out one after the other, each once the one before was answered (UDP may reorder). */
  private notifies: Promise<unknown> = Promise.resolve();
  private referListener: ((refer: IncomingRefer) => void) | undefined;
  /** REFERs that came before anyone listened, each with the timer that refuses it. */
  private readonly early: { req: InboundRequest; res: InboundResponse; timer: NodeJS.Timeout }[] = [];

  constructor(
    private readonly dialog: ReferDialog,
    private readonly logger: Logger,
  ) {
    dialog.on('notify', (req, res) => this.notifyIn(req, res));
    dialog.on('refer', (req, res) => this.referIn(req, res));
  }

  /** Whether an outgoing REFER is waiting for its outcome. */
  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Who is asked to carry out a REFER from the far end; without one it is refused 403. */
  onRefer(listener: (refer: IncomingRefer) => void): void {
    this.referListener = listener;
    for (const { req, res, timer } of this.early.splice(0)) {
      clearTimeout(timer);
      this.referIn(req, res);
    }
  }

  /** Sends REFER; resolves with how it ended (never rejects). One at a time. */
  refer(request: ReferRequest): Promise<ReferOutcome> {
    if (this.pending) {
      return Promise.resolve({
        result: 'failed',
        stage: 'refer',
        status: null,
        reason: 'a transfer is pending',
      });
    }
    return new Promise<ReferOutcome>((resolve) => {
      let accepted = false;
      let timer: NodeJS.Timeout | undefined;
      const pending: Pending = {
        finish: (outcome) => {
          if (this.pending !== pending) return;
          this.pending = undefined;
          clearTimeout(timer);
          resolve(outcome);
        },
        notified: (status, reason, terminated) => {
          if (status >= 200 && status < 300) pending.finish({ result: 'completed', status, reason });
          else if (status >= 300) pending.finish({ result: 'failed', stage: 'notify', status, reason });
          else if (terminated)
            pending.finish({
              result: 'failed',
              stage: 'notify',
              status,
              reason: 'the subscription ended without a final status',
            });
        },
      };
      this.pending = pending;
      timer = setTimeout(
        () =>
          pending.finish({
            result: 'failed',
            stage: 'timeout',
            status: null,
            reason: `no final NOTIFY within ${request.timeoutMs} ms`,
          }),
        request.timeoutMs,
      );
      const referredBy = request.referredBy ?? this.dialog.local?.uri;
      this.dialog
        .request({
          method: 'REFER',
          headers: {
            'Refer-To': `<${request.referTo}>`,
            ...(referredBy ? { 'Referred-By': `<${referredBy}>` } : {}),
          },
        })
        .then(
          (res) => {
            if (res.status >= 200 && res.status < 300) {
              if (!accepted) {
                accepted = true;
                request.onAccepted?.(res.status);
              }
              return;
            }
            pending.finish({
              result: 'failed',
              stage: 'refer',
              status: res.status,
              reason: res.reason ?? 'REFER refused',
            });
          },
          (error: unknown) =>
            pending.finish({
              result: 'failed',
              stage: 'refer',
              status: null,
              reason: `REFER not sent: ${(error as Error).message}`,
            }),
        );
    });
  }

  private notifyIn(req: InboundRequest, res: InboundResponse): void {
    const event = (req.get('Event') ?? '').trim();
    if (!/^refer\b/i.test(event)) {
      res.send(489);
      return;
    }
    const pending = this.pending;
    if (!pending) {
      res.send(481);
      return;
    }
    res.send(200);
    const terminated = /^\s*terminated/i.test(req.get('Subscription-State') ?? '');
    const frag = sipfragStatus(req.body ?? '');
    if (!frag) {
      this.logger.info({ body: req.body }, 'NOTIFY for a REFER without a sipfrag status line');
      if (terminated) pending.notified(100, '', true);
      return;
    }
    this.logger.info({ status: frag.status, reason: frag.reason, terminated }, 'transfer progress');
    pending.notified(frag.status, frag.reason, terminated);
  }

  private referIn(req: InboundRequest, res: InboundResponse): void {
    const referTo = headerUri(req.get('Refer-To'));
    const listener = this.referListener;
    if (!listener) {
      const timer = setTimeout(() => {
        const index = this.early.findIndex((entry) => entry.res === res);
        if (index >= 0) this.early.splice(index, 1);
        this.logger.info({ referTo }, 'REFER refused: transfers are not allowed on this leg');
        res.send(403, 'Transfer Not Allowed');
      }, LISTENER_WAIT_MS);
      timer.unref();
      this.early.push({ req, res, timer });
      return;
    }
    if (!referTo) {
      res.send(400, 'Missing Refer-To');
      return;
    }
    let answered = false;
    listener({
      referTo,
      referredBy: headerUri(req.get('Referred-By')),
      refuse: (status, reason) => {
        if (answered) return;
        answered = true;
        res.send(status, reason);
      },
      accept: () => {
        answered = true;
        res.send(202);
        const notifier: ReferNotifier = {
          notify: (status, reason) => this.notifyOut(status, reason),
        };
        void notifier.notify(100, 'Trying');
        return notifier;
      },
    });
  }

  private notifyOut(status: number, reason: string): Promise<void> {
    const final = status >= 200;
    const send = () =>
      this.dialog.request({
        method: 'NOTIFY',
        headers: {
          Event: 'refer',
          'Subscription-State': final ? 'terminated;reason=noresource' : 'active;expires=60',
          'Content-Type': SIPFRAG_TYPE,
        },
        body: `SIP/2.0 ${status} ${reason}\r\n`,
      });
    const sent = this.notifies.then(send).then(
      () => undefined,
      (error: unknown) => this.logger.warn({ err: error, status }, 'transfer NOTIFY not sent'),
    );
    this.notifies = sent;
    return sent;
  }
}
