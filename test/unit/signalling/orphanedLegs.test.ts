import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { type LegActions, OrphanedLegs, RESTART_REASON } from '../../../src/signalling/orphanedLegs.js';
import { type RecordableDialog, SipLegJournal } from '../../../src/signalling/sipLegJournal.js';
import { Database } from '../../../src/store/database.js';
import { SipLegStore } from '../../../src/store/sipLegStore.js';
import type { SqlStore } from '../../../src/store/sql/sqlTypes.js';
import { type StoreEngine, storeEngines, useStore } from '../../support/storeEngines.js';

const logger = pino({ level: 'silent' });

/** Records what the sweep asks of the SIP server; `lostDialogs` are dialogs the server no longer holds. */
class RecordingActions implements LegActions {
  readonly sent: { kind: string; [key: string]: unknown }[] = [];
  lostDialogs = new Set<string>();
  async byeInDialog(dialogId: string, headers: Record<string, string>): Promise<void> {
    if (this.lostDialogs.has(dialogId)) throw new Error('unable to find dialog');
    this.sent.push({ kind: 'bye', dialogId, headers });
  }
  async requestOutOfDialog(
    uri: string,
    method: string,
    headers: Record<string, string>,
    nextHop: string | undefined,
  ): Promise<void> {
    this.sent.push({ kind: 'request', uri, method, headers, nextHop });
  }
  respond(txnId: string, status: number, reason: string, headers: Record<string, string>): void {
    this.sent.push({ kind: 'respond', txnId, status, reason, headers });
  }
  async cancel(txnId: string, uri: string): Promise<void> {
    this.sent.push({ kind: 'cancel', txnId, uri });
  }
}

function message(headers: Record<string, string>, protocol = 'udp') {
  return { protocol, get: (name: string) => headers[name] };
}

/** An answered inbound INVITE as srf's Dialog shows it, behind two record-routing proxies. */
const inboundDialog: RecordableDialog = {
  id: 'abc@carrier;from-tag=c1',
  type: 'uas',
  sip: { callId: 'abc@carrier', localTag: 'g1', remoteTag: 'c1' },
  remote: { uri: 'sip:caller@198.51.100.7:5070' },
  req: {
    uri: 'sip:+15550199@gw.example.com',
    ...message({
      'Call-ID': 'abc@carrier',
      From: '"Ana" <sip:+15550100@carrier.example>;tag=c1',
      To: '<sip:+15550199@gw.example.com>',
      CSeq: '7 INVITE',
      'Record-Route': '<sip:p1.example;lr>, <sip:p2.example;lr>',
    }),
  },
  res: message({}),
};

const invite = (callId: string, txnId: string, uri = 'sip:+15550199@gw.example.com') => ({
  stackTxnId: txnId,
  uri,
  get: (name: string) => (name === 'Call-ID' ? callId : undefined),
});

describe.each(storeEngines())('the SIP leg journal and sweep on $name', (engine: StoreEngine) => {
  let sql: SqlStore;
  let store: SipLegStore;
  let journal: SipLegJournal;
  let actions: RecordingActions;
  let sweep: OrphanedLegs;

  useStore(engine, (opened) => {
    sql = opened;
  });
  beforeEach(async () => {
    await sql.write([{ text: 'DELETE FROM sip_legs', params: [] }]);
    store = new SipLegStore(sql);
    journal = new SipLegJournal(store, logger);
    actions = new RecordingActions();
    sweep = new OrphanedLegs(store, actions, logger);
  });

  it('sends BYE through the SIP server in a dialog it still holds, and forgets the leg', async () => {
    journal.inbound('call_1', invite('abc@carrier', 'txn-1'));
    journal.answered(inboundDialog);
    await sweep.end(await sweep.find());
    expect(actions.sent).toEqual([
      { kind: 'bye', dialogId: 'abc@carrier;from-tag=c1', headers: { Reason: RESTART_REASON } },
    ]);
    expect(await store.all()).toEqual([]);
  });

  it('builds the BYE from the stored dialog when the SIP server lost it too (RFC 3261 12.2.1.1)', async () => {
    journal.inbound('call_1', invite('abc@carrier', 'txn-1'));
    journal.answered(inboundDialog);
    actions.lostDialogs.add(inboundDialog.id);
    await sweep.end(await sweep.find());
    expect(actions.sent).toEqual([
      {
        kind: 'request',
        uri: 'sip:caller@198.51.100.7:5070',
        method: 'BYE',
        nextHop: 'sip:p1.example;lr',
        headers: {
          'Call-ID': 'abc@carrier',
          From: '<sip:+15550199@gw.example.com>;tag=g1',
          To: '"Ana" <sip:+15550100@carrier.example>;tag=c1',
          CSeq: '1 BYE',
          Route: '<sip:p1.example;lr>, <sip:p2.example;lr>',
          Reason: RESTART_REASON,
        },
      },
    ]);
  });

  it('as UAC reverses the route set and counts on from the INVITE CSeq', async () => {
    journal.outbound('call_2', invite('out-1', 'txn-9', 'sip:+15550111@trunk.example'));
    journal.answered({
      id: 'out-1;from-tag=g2',
      type: 'uac',
      sip: { callId: 'out-1', localTag: 'g2', remoteTag: 't2' },
      remote: { uri: 'sip:+15550111@203.0.113.5' },
      req: {
        uri: 'sip:+15550111@trunk.example',
        ...message(
          { From: '<sip:+15550199@gw.example.com>;tag=g2', CSeq: '2 INVITE', 'Call-ID': 'out-1' },
          'tcp',
        ),
      },
      res: message({ To: '<sip:+15550111@trunk.example>;tag=t2', 'Record-Route': '<sip:a;lr>, <sip:b;lr>' }),
    });
    actions.lostDialogs.add('out-1;from-tag=g2');
    await sweep.end(await sweep.find());
    expect(actions.sent[0]).toMatchObject({
      uri: 'sip:+15550111@203.0.113.5;transport=tcp',
      nextHop: 'sip:b;lr',
      headers: { CSeq: '3 BYE', Route: '<sip:b;lr>, <sip:a;lr>', To: '<sip:+15550111@trunk.example>;tag=t2' },
    });
  });

  it('answers an inbound call still ringing with 480 and cancels an outbound one still dialing', async () => {
    journal.inbound('call_1', invite('in-1', 'txn-in'));
    journal.outbound('call_2', invite('out-1', 'txn-out-1', 'sip:+15550111@trunk.example'));
    // Resent after a digest challenge: the leg's transaction is the new one.
    journal.outbound('call_2', invite('out-1', 'txn-out-2', 'sip:+15550111@trunk.example'));
    await sweep.end(await sweep.find());
    expect(actions.sent).toEqual([
      {
        kind: 'respond',
        txnId: 'txn-in',
        status: 480,
        reason: 'Temporarily Unavailable',
        headers: { Reason: RESTART_REASON },
      },
      { kind: 'cancel', txnId: 'txn-out-2', uri: 'sip:+15550111@trunk.example' },
    ]);
    expect(await store.all()).toEqual([]);
  });

  it('keeps no leg of a call that ended', async () => {
    journal.inbound('call_1', invite('in-1', 'txn-in'));
    journal.outbound('call_1', invite('out-1', 'txn-out'));
    journal.inbound('call_3', invite('in-3', 'txn-3'));
    journal.ended('call_1');
    expect((await store.all()).map((leg) => leg.callId)).toEqual(['call_3']);
  });
});

describe('the SIP leg journal when its database fails', () => {
  it('logs a failed write and does not fail the call in hand', async () => {
    const db = new Database({ path: ':memory:', synchronous: 'full', logger });
    const broken = new SipLegJournal(new SipLegStore(db), logger);
    db.closeNow();
    expect(() => broken.inbound('call_1', invite('in-1', 'txn-in'))).not.toThrow();
    expect(() => broken.answered(inboundDialog)).not.toThrow();
    expect(() => broken.ended('call_1')).not.toThrow();
    // The failures settle as log lines, not as unhandled rejections.
    await new Promise((resolve) => setImmediate(resolve));
  });
});
