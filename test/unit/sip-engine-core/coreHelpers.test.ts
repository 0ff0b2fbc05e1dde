import { describe, expect, it } from 'vitest';
import type { AppConnection } from '../../../sip/engine/apps/AppConnection.js';
import { copyAppHeaders, defaultContentType } from '../../../sip/engine/core/appHeaders.js';
import { DialogStore, tagOf } from '../../../sip/engine/core/dialogStore.js';
import type { Dialog } from '../../../sip/engine/core/dialogTypes.js';
import { MessageStats } from '../../../sip/engine/core/messageStats.js';
import { destinationForUri, inDialogNextHop } from '../../../sip/engine/core/nextHop.js';
import { parseAppSip } from '../../../sip/engine/core/parseAppSip.js';
import type { SipRequest } from '../../../sip/engine/message/messageTypes.js';
import { parseMessage } from '../../../sip/engine/message/parseMessage.js';
import { SipHeaders } from '../../../sip/engine/message/sipHeaders.js';

const req = (lines: string[], body = ''): SipRequest =>
  parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`), { partial: true }) as SipRequest;

describe('destinationForUri', () => {
  it('takes transport from the URI param, sips means TLS, ports default per transport', () => {
    expect(destinationForUri('sip:bob@192.0.2.1')).toEqual({
      transport: 'udp',
      address: '192.0.2.1',
      port: 5060,
    });
    expect(destinationForUri('sip:bob@192.0.2.1:5080;transport=TCP')).toEqual({
      transport: 'tcp',
      address: '192.0.2.1',
      port: 5080,
    });
    expect(destinationForUri('sips:bob@example.com')).toEqual({
      transport: 'tls',
      address: 'example.com',
      port: 5061,
    });
    expect(destinationForUri('sip:[::1]:5070', 'tcp')).toEqual({
      transport: 'tcp',
      address: '::1',
      port: 5070,
    });
    expect(destinationForUri('sip:a@h;maddr=198.51.100.9').address).toBe('198.51.100.9');
  });

  it('refuses what it cannot route', () => {
    expect(() => destinationForUri('tel:+15550100')).toThrow();
  });

  it('sends in-dialog requests to the first Route, else the remote target', () => {
    expect(inDialogNextHop([], 'sip:alice@192.0.2.5:5062')).toBe('sip:alice@192.0.2.5:5062');
    expect(inDialogNextHop(['<sip:proxy.example.com;lr>', '<sip:p2;lr>'], 'sip:alice@192.0.2.5')).toBe(
      'sip:proxy.example.com;lr',
    );
  });
});

describe('app headers', () => {
  it('copies custom headers but not those the server owns', () => {
    const app = req([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP x;branch=z9hG4bKapp',
      'To: <sip:a@b>;tag=1',
      'X-Custom: yes',
      'Content-Length: 0',
      'Allow: INVITE, BYE',
    ]);
    const out = new SipHeaders();
    copyAppHeaders(app, out, ['To']);
    expect(out.entries().map((e) => e.name)).toEqual(['X-Custom', 'Allow']);
  });

  it('adds Content-Type application/sdp for SDP bodies only when none is given', () => {
    const sdp = req(['INFO sip:a@b SIP/2.0'], 'v=0\r\n');
    defaultContentType(sdp);
    expect(sdp.headers.get('Content-Type')).toBe('application/sdp');
    const dtmf = req(['INFO sip:a@b SIP/2.0', 'Content-Type: application/dtmf-relay'], 'Signal=1\r\n');
    defaultContentType(dtmf);
    expect(dtmf.headers.getAll('Content-Type')).toEqual(['application/dtmf-relay']);
    const text = req(['MESSAGE sip:a@b SIP/2.0'], 'hello');
    defaultContentType(text);
    expect(text.headers.has('Content-Type')).toBe(false);
  });
});

describe('DialogStore', () => {
  const dialog = (over: Partial<Dialog>): Dialog => ({
    id: 'c1;from-tag=uac',
    role: 'uas',
    callId: 'c1',
    localTag: 'ours',
    remoteTag: 'uac',
    localParty: '<sip:us@h>;tag=ours',
    remoteParty: '<sip:them@h>;tag=uac',
    remoteTarget: 'sip:them@192.0.2.1',
    routeSet: [],
    localCseq: 0,
    remoteCseq: 1,
    transport: 'udp',
    localContact: '<sip:h>',
    app: {} as AppConnection,
    lastInviteCseq: 0,
    ...over,
  });

  it('finds a UAS dialog by the From tag and a UAC dialog by the To tag', () => {
    const store = new DialogStore();
    store.add(dialog({}));
    store.add(
      dialog({ id: 'c2;from-tag=ours2', role: 'uac', callId: 'c2', localTag: 'ours2', remoteTag: 'far' }),
    );
    const bye = (callId: string, from: string, to: string) =>
      req([
        `BYE sip:h SIP/2.0`,
        `From: <sip:x@h>;tag=${from}`,
        `To: <sip:y@h>;tag=${to}`,
        `Call-ID: ${callId}`,
        'CSeq: 2 BYE',
      ]);
    expect(store.findForRequest(bye('c1', 'uac', 'ours'))?.id).toBe('c1;from-tag=uac');
    expect(store.findForRequest(bye('c2', 'far', 'ours2'))?.id).toBe('c2;from-tag=ours2');
    // Right Call-ID and one tag, wrong other tag: not this dialog.
    expect(store.findForRequest(bye('c1', 'uac', 'someone-else'))).toBeUndefined();
    expect(tagOf(bye('c1', 'uac', 'ours'), 'To')).toBe('ours');
  });

  it('stops the 2xx retransmitter of a removed dialog', () => {
    const store = new DialogStore();
    let stopped = 0;
    store.add(dialog({ okRetransmitter: { stop: () => stopped++ } as never }));
    expect(store.remove('c1;from-tag=uac')).toBe(true);
    expect(store.remove('c1;from-tag=uac')).toBe(false);
    expect(stopped).toBe(1);
    expect(store.size).toBe(0);
  });
});

describe('parseAppSip', () => {
  it('takes the whole body whatever Content-Length srf wrote (it counts UTF-16 units, not bytes)', () => {
    const body = 'Grüße 😀';
    const msg = parseAppSip(
      `MESSAGE sip:a@b SIP/2.0\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(msg.body.toString('utf8')).toBe(body);
    expect(msg.headers.has('Content-Length')).toBe(false);
    expect(msg.headers.get('Content-Type')).toBe('text/plain');
  });

  it('parses a response without body or final blank line', () => {
    const msg = parseAppSip('SIP/2.0 486 Busy Here\r\nl: 0\r\nX-Reason: busy');
    expect(msg.kind === 'response' && msg.status).toBe(486);
    expect(msg.headers.get('X-Reason')).toBe('busy');
    expect(msg.headers.has('Content-Length')).toBe(false);
  });
});

describe('MessageStats', () => {
  it('counts by direction and method or status, pre-serialised replies included', () => {
    const stats = new MessageStats();
    stats.incoming(req(['INVITE sip:a@b SIP/2.0']));
    stats.incoming(req(['INVITE sip:a@b SIP/2.0']));
    stats.outgoing(Buffer.from('SIP/2.0 400 Bad Request\r\n\r\n'));
    stats.outgoing(parseMessage(Buffer.from('SIP/2.0 200 OK\r\n\r\n'), { partial: true }));
    expect(stats.snapshot()).toEqual({
      requestsIn: { INVITE: 2 },
      requestsOut: {},
      responsesIn: {},
      responsesOut: { '400': 1, '200': 1 },
    });
  });

  it('counts methods it does not know as other, so made-up methods add no metric series', () => {
    const stats = new MessageStats();
    for (const method of ['INVJTE', 'FOO', 'XYZZY', 'INVITE'])
      stats.incoming(req([`${method} sip:a@b SIP/2.0`]));
    stats.outgoing(Buffer.from('BLAH sip:a@b SIP/2.0\r\n\r\n'));
    expect(stats.snapshot()).toMatchObject({
      requestsIn: { other: 3, INVITE: 1 },
      requestsOut: { other: 1 },
    });
  });
});
