import type { Database } from './database.js';

export type SipLegRole = 'uas' | 'uac';

/** A leg whose INVITE is out (uac) or in (uas) and has no final answer yet. */
export interface EarlyLeg {
  callId: string;
  role: SipLegRole;
  sipCallId: string;
  /** The SIP server's transaction id of the INVITE: a late final response or CANCEL names it. */
  txnId: string;
  requestUri: string;
}

/** An answered leg: enough to send BYE through the SIP server, or by hand if it lost the dialog. */
export interface DialogState {
  /** The SIP server's dialog id (`<Call-ID>;from-tag=<tag>`). */
  dialogId: string;
  /** Our From in requests we send in the dialog, tag included. */
  localParty: string;
  /** Their name-addr (To of our requests), tag included. */
  remoteParty: string;
  remoteTarget: string;
  /** Route header values for our requests, in order. */
  routeSet: string[];
  /** The last CSeq we used in the dialog (0 when we sent nothing yet). */
  localCseq: number;
  transport: string;
}

export interface StoredLeg extends EarlyLeg {
  dialog: DialogState | null;
}

interface Row {
  sip_call_id: string;
  role: SipLegRole;
  call_id: string;
  txn_id: string;
  request_uri: string;
  dialog_id: string | null;
  local_party: string | null;
  remote_party: string | null;
  remote_target: string | null;
  route_set: string;
  local_cseq: number | null;
  transport: string | null;
}

function fromRow(row: Row): StoredLeg {
  const dialog: DialogState | null =
    row.dialog_id === null
      ? null
      : {
          dialogId: row.dialog_id,
          localParty: row.local_party ?? '',
          remoteParty: row.remote_party ?? '',
          remoteTarget: row.remote_target ?? row.request_uri,
          routeSet: JSON.parse(row.route_set) as string[],
          localCseq: row.local_cseq ?? 0,
          transport: row.transport ?? 'udp',
        };
  return {
    callId: row.call_id,
    role: row.role,
    sipCallId: row.sip_call_id,
    txnId: row.txn_id,
    requestUri: row.request_uri,
    dialog,
  };
}

/** The SIP legs of live calls, in SQLite, so the next process can end them after a crash. */
export class SipLegStore {
  private readonly upsertEarlyStmt;
  private readonly confirmStmt;
  private readonly removeCallStmt;
  private readonly removeStmt;
  private readonly allStmt;

  constructor(db: Database) {
    // An INVITE resent after a digest challenge is a new transaction of the same leg.
    this.upsertEarlyStmt = db.sql.prepare(`
      INSERT INTO sip_legs (sip_call_id, role, call_id, txn_id, request_uri, created_at)
      VALUES (@sipCallId, @role, @callId, @txnId, @requestUri, @at)
      ON CONFLICT (sip_call_id, role) DO UPDATE SET txn_id = excluded.txn_id`);
    this.confirmStmt = db.sql.prepare(`
      UPDATE sip_legs SET dialog_id = @dialogId, local_party = @localParty, remote_party = @remoteParty,
        remote_target = @remoteTarget, route_set = @routeSet, local_cseq = @localCseq, transport = @transport
      WHERE sip_call_id = @sipCallId AND role = @role`);
    this.removeCallStmt = db.sql.prepare('DELETE FROM sip_legs WHERE call_id = ?');
    this.removeStmt = db.sql.prepare('DELETE FROM sip_legs WHERE sip_call_id = ? AND role = ?');
    this.allStmt = db.sql.prepare<[], Row>('SELECT * FROM sip_legs ORDER BY created_at');
  }

  early(leg: EarlyLeg, at: string): void {
    this.upsertEarlyStmt.run({ ...leg, at });
  }

  /** Records the dialog of a leg already known as early; false if there is no such leg. */
  confirm(role: SipLegRole, sipCallId: string, dialog: DialogState): boolean {
    return (
      this.confirmStmt.run({ ...dialog, routeSet: JSON.stringify(dialog.routeSet), sipCallId, role })
        .changes > 0
    );
  }

  removeCall(callId: string): void {
    this.removeCallStmt.run(callId);
  }

  remove(role: SipLegRole, sipCallId: string): void {
    this.removeStmt.run(sipCallId, role);
  }

  all(): StoredLeg[] {
    return this.allStmt.all().map(fromRow);
  }
}
