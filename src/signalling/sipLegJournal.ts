import type { Logger } from 'pino';
import type { DialogState, SipLegRole, SipLegStore } from '../store/sipLegStore.js';
import type { SqlStatement } from '../store/sql/sqlTypes.js';
import { splitHeaderList } from './splitHeaderList.js';

/** A SIP message as srf gives it: headers by name, and the transport it came or went over. */
interface SrfMessage {
  get(header: string): string | undefined;
  readonly protocol?: string;
}

/** The parts of an srf Dialog (either side) that ending it by hand needs. */
export interface RecordableDialog {
  readonly id: string;
  readonly type: SipLegRole;
  readonly sip: { callId: string; localTag: string; remoteTag: string };
  readonly remote: { uri: string };
  /** uas: the INVITE received; uac: the INVITE sent. */
  readonly req: SrfMessage & { uri: string };
  /** uas: our 200 OK; uac: their 200 OK. */
  readonly res: SrfMessage;
}

/** A request the SIP server has taken: its transaction id names it in later messages. */
export interface SentOrReceivedInvite {
  readonly stackTxnId: string;
  readonly uri: string;
  get(header: string): string | undefined;
}

function withTag(nameAddr: string, tag: string): string {
  return /;\s*tag=/i.test(nameAddr) ? nameAddr : `${nameAddr};tag=${tag}`;
}

function cseqNumber(message: SrfMessage): number {
  return Number.parseInt(message.get('CSeq') ?? '', 10) || 0;
}

/** What a BYE of ours in this dialog would carry (RFC 3261 12.1.1, 12.1.2). */
export function dialogStateOf(dialog: RecordableDialog): DialogState {
  const uas = dialog.type === 'uas';
  const recordRoute = splitHeaderList((uas ? dialog.req : dialog.res).get('Record-Route') ?? '');
  return {
    dialogId: dialog.id,
    localParty: uas
      ? withTag(dialog.req.get('To') ?? `<${dialog.req.uri}>`, dialog.sip.localTag)
      : (dialog.req.get('From') ?? ''),
    remoteParty: uas ? (dialog.req.get('From') ?? '') : (dialog.res.get('To') ?? ''),
    remoteTarget: dialog.remote.uri,
    // The UAS uses Record-Route as it came; the UAC in reverse.
    routeSet: uas ? recordRoute : recordRoute.reverse(),
    // As UAS we have sent nothing in the dialog yet; as UAC the INVITE used its CSeq.
    localCseq: uas ? 0 : cseqNumber(dialog.req),
    transport: (dialog.req.protocol ?? dialog.res.protocol ?? 'udp').toLowerCase(),
  };
}

/**
 * Writes down each SIP leg of a live call as it moves on (INVITE taken or sent, dialog
 * confirmed, call ended), so that a gateway starting after a crash can end every leg its
 * predecessor left: the caller is hung up instead of hearing dead air (OrphanedLegs).
 */
export class SipLegJournal {
  constructor(
    private readonly store: SipLegStore,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** An inbound INVITE became a call (it rings from now on). */
  inbound(callId: string, invite: SentOrReceivedInvite): void {
    this.early(callId, 'uas', invite);
  }

  /** An outbound INVITE of a call went out (again, after a digest challenge). */
  outbound(callId: string, invite: SentOrReceivedInvite): void {
    this.early(callId, 'uac', invite);
  }

  /** The leg was answered: its dialog replaces its transaction. */
  answered(dialog: RecordableDialog): void {
    this.write('answered', () =>
      this.store.confirmStatement(dialog.type, dialog.sip.callId, dialogStateOf(dialog)),
    );
  }

  /** One leg is over while its call goes on (a dial that failed). */
  legEnded(role: SipLegRole, sipCallId: string): void {
    this.write('legEnded', () => this.store.removeStatement(role, sipCallId));
  }

  /** The call is over, and so is every leg of it. */
  ended(callId: string): void {
    this.write('ended', () => this.store.removeCallStatement(callId));
  }

  private early(callId: string, role: SipLegRole, invite: SentOrReceivedInvite): void {
    this.write('early', () =>
      this.store.earlyStatement(
        {
          callId,
          role,
          sipCallId: invite.get('Call-ID') ?? '',
          txnId: invite.stackTxnId,
          requestUri: invite.uri,
        },
        this.now().toISOString(),
      ),
    );
  }

  /**
   * Hands the change over and goes on: the journal only serves the next process after a crash,
   * so a write that fails (disk full, a locked database, PostgreSQL refusing it) costs that, and
   * must not fail or hold up the call that is ringing or being answered now. Writes commit in
   * the order they were handed over, so a leg's removal never lands before its record.
   */
  private write(what: string, change: () => SqlStatement): void {
    const logFailure = (error: unknown) =>
      this.logger.error(
        { err: error, what },
        'could not write a SIP leg down; a crash now would leave it up',
      );
    try {
      this.store.write([change()]).catch(logFailure);
    } catch (error) {
      logFailure(error);
    }
  }
}
