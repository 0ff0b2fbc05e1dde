import type { AppConnection } from '../apps/AppConnection.js';
import type { SipRequest } from '../message/messageTypes.js';
import type { OkRetransmitter } from '../transaction/okRetransmitter.js';
import type { Destination, TransportProtocol } from '../transport/transportTypes.js';
import type { PendingInvite } from './coreTypes.js';

/** A confirmed INVITE dialog (RFC 3261 12), as the engine keeps it for the app that owns it. */
export interface Dialog {
  /** `<Call-ID>;from-tag=<UAC's From tag>` (dialogIdOf). */
  id: string;
  role: 'uac' | 'uas';
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Our From value in requests we send in the dialog, tag included. */
  localParty: string;
  /** Their name-addr (To of requests we send), tag included. */
  remoteParty: string;
  remoteTarget: string;
  /** Route header values for requests we send, in order. */
  routeSet: string[];
  localCseq: number;
  remoteCseq: number;
  /** Transport the dialog was set up on, and the connection for TCP/TLS. */
  transport: TransportProtocol;
  connectionId?: string;
  /** Our Contact, for target-refresh requests the app sends without one. */
  localContact: string;
  app: AppConnection;
  /** txnId reported with a network ACK: that of the INVITE whose 2xx the ACK confirms. */
  ackTxnId?: string;
  /** Retransmits our 2xx (initial INVITE or re-INVITE) until the ACK arrives. */
  okRetransmitter?: OkRetransmitter;
  /** The ACK we sent for the remote's latest 2xx, resent if that 2xx is retransmitted. */
  lastAck?: { request: SipRequest; destination: Destination; cseq: number };
  /** CSeq of our INVITE whose 2xx arrived and still needs (or got) the app's ACK. */
  okCseq?: number;
  /** CSeq of the last INVITE we sent in the dialog (initial or re-INVITE), which an ACK repeats. */
  lastInviteCseq: number;
  /** Our re-INVITE still waiting for a final response. */
  pendingReinvite?: PendingInvite;
}
