import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SipDialogLeg } from '../../../src/signalling/sipDialogLeg.js';
import type { InboundRequest, InboundResponse, SipDialog } from '../../../src/signalling/srfTypes.js';

/**
 * The answered SIP leg keeps what its dialog receives before the call listens: srf hands the
 * dialog over a few microtasks after the 200 OK, and an ACK read in one chunk with a re-INVITE
 * or INFO would otherwise meet a dialog with no listener. A scripted srf dialog stands in for
 * srf here (real SIP: test/integration/inDialogRace.test.ts).
 */
const logger = pino({ level: 'silent' });

class ScriptedDialog extends EventEmitter implements SipDialog {
  readonly id = 'dialog-1';
  connected = true;
  byes = 0;
  destroy(): Promise<void> {
    this.byes++;
    this.connected = false;
    return Promise.resolve();
  }
}

interface Sent {
  status: number;
  body?: string | undefined;
  headers?: Record<string, string> | undefined;
}

function response(): { res: InboundResponse; sent: Sent[]; answered: Promise<Sent> } {
  const sent: Sent[] = [];
  let done: (value: Sent) => void = () => undefined;
  const answered = new Promise<Sent>((resolve) => {
    done = resolve;
  });
  const res: InboundResponse = {
    finalResponseSent: false,
    send: (status, _reason, options) => {
      const entry = { status, body: options?.body, headers: options?.headers };
      sent.push(entry);
      done(entry);
    },
  };
  return { res, sent, answered };
}

function request(body: string, contentType = 'application/sdp'): InboundRequest {
  return {
    body,
    get: (name: string) => (name === 'Content-Type' ? contentType : undefined),
  } as InboundRequest;
}

describe('SipDialogLeg', () => {
  it('answers a re-INVITE that came before anyone listened, with the call’s answer', async () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger);
    const { res, answered } = response();
    dialog.emit('modify', request('offer: sendonly'), res);
    leg.onOffer(async (offer) => `answer to ${offer}`);
    expect(await answered).toEqual({ status: 200, body: 'answer to offer: sendonly', headers: undefined });
  });

  it('refuses an offer its answerer rejects with 488', async () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger);
    leg.onOffer(() => Promise.reject(new Error('no codec in common')));
    const { res, answered } = response();
    dialog.emit('modify', request('offer'), res);
    expect((await answered).status).toBe(488);
  });

  it('keeps INFO digits that came early and hands them over in order; answers every INFO at once', () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger);
    const answers: number[] = [];
    for (const body of ['Signal=1\r\nDuration=160', 'Signal=#']) {
      const { res, sent } = response();
      dialog.emit('info', request(body, 'application/dtmf-relay'), res);
      answers.push(sent[0]?.status ?? 0);
    }
    const digits: [string, number | null][] = [];
    leg.onDtmf((digit, durationMs) => digits.push([digit, durationMs]));
    expect(answers).toEqual([200, 200]);
    expect(digits).toEqual([
      ['1', 160],
      ['#', null],
    ]);
  });

  it('answers INFO without a digit: keep-alive 200, unreadable DTMF 400, other bodies 415', () => {
    const dialog = new ScriptedDialog();
    new SipDialogLeg(dialog, logger).onDtmf(() => expect.fail('no digit in these'));
    const statuses = [
      request('', 'application/dtmf-relay'),
      request('Signal=?', 'application/dtmf-relay'),
      request('{"x":1}', 'application/json'),
    ].map((req) => {
      const { res, sent } = response();
      dialog.emit('info', req, res);
      return sent[0];
    });
    expect(statuses.map((s) => s?.status)).toEqual([200, 400, 415]);
    expect(statuses[2]?.headers).toEqual({ Accept: 'application/dtmf-relay, application/dtmf' });
  });

  it('reports a BYE that came before anyone listened, and sends no BYE of its own after it', async () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger);
    dialog.emit('destroy');
    let ended = 0;
    leg.onEnded(() => ended++);
    expect(ended).toBe(1);
    expect(leg.connected).toBe(false);
    await leg.hangup();
    expect(dialog.byes).toBe(0);
  });

  it('a dialog already ended when the leg is made counts as ended by the far end', () => {
    const dialog = new ScriptedDialog();
    dialog.connected = false;
    const leg = new SipDialogLeg(dialog, logger);
    let ended = false;
    leg.onEnded(() => {
      ended = true;
    });
    expect(ended).toBe(true);
  });

  it('hangs up once: one BYE, and its own BYE is not reported as the far end’s', async () => {
    const dialog = new ScriptedDialog();
    const leg = new SipDialogLeg(dialog, logger);
    let ended = 0;
    leg.onEnded(() => ended++);
    await Promise.all([leg.hangup(), leg.hangup()]);
    dialog.emit('destroy');
    expect(dialog.byes).toBe(1);
    expect(ended).toBe(0);
    expect(leg.connected).toBe(false);
  });
});
