import { LOCAL_NODE, OF_NODE, ofNode } from './localNode.js';
import { type SqlStatement, type SqlStore, statement } from './sql/sqlTypes.js';

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

/**
 * The SIP legs of live calls, in the database, so the next process can end them after a crash.
 * Changes are batched writes (`write`): a call never waits on them, they commit in the order
 * they were made (a leg's record, its dialog, its removal), and PostgreSQL keeps them through an
 * outage. Each change is a statement, so a caller may commit it together with its own.
 */
export class SipLegStore {
  /** `nodeId`: the node whose legs these are (another node's are never read or ended here). */
  constructor(
    private readonly sql: SqlStore,
    private readonly nodeId: string = LOCAL_NODE,
  ) {}

  earlyStatement(leg: EarlyLeg, at: string): SqlStatement {
    // An INVITE resent after a digest challenge is a new transaction of the same leg.
    return statement(
      `INSERT INTO sip_legs (sip_call_id, role, call_id, txn_id, request_uri, created_at, node_id)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sip_call_id, role) DO UPDATE SET txn_id = excluded.txn_id`,
      leg.sipCallId,
      leg.role,
      leg.callId,
      leg.txnId,
      leg.requestUri,
      at,
      this.nodeId,
    );
  }

  /** Records the dialog of a leg already known as early (a leg unknown is left alone). */
  confirmStatement(role: SipLegRole, sipCallId: string, dialog: DialogState): SqlStatement {
    return statement(
      `UPDATE sip_legs SET dialog_id = ?, local_party = ?, remote_party = ?, remote_target = ?,
         route_set = ?, local_cseq = ?, transport = ?
       WHERE sip_call_id = ? AND role = ?`,
      dialog.dialogId,
      dialog.localParty,
      dialog.remoteParty,
      dialog.remoteTarget,
      JSON.stringify(dialog.routeSet),
      dialog.localCseq,
      dialog.transport,
      sipCallId,
      role,
    );
  }

  removeCallStatement(callId: string): SqlStatement {
    return statement('DELETE FROM sip_legs WHERE call_id = ?', callId);
  }

  removeStatement(role: SipLegRole, sipCallId: string): SqlStatement {
    return statement('DELETE FROM sip_legs WHERE sip_call_id = ? AND role = ?', sipCallId, role);
  }

  /** Commits the statements (in order, after every earlier write); nobody has to wait for it. */
  write(statements: readonly SqlStatement[]): Promise<void> {
    return this.sql.write(statements);
  }

  /** Every leg this node recorded, oldest first. */
  async all(): Promise<StoredLeg[]> {
    const rows = await this.sql.all<Row>(
      `SELECT * FROM sip_legs WHERE ${OF_NODE} ORDER BY created_at, sip_call_id, role`,
      ofNode(this.nodeId),
    );
    return rows.map(fromRow);
  }
}
