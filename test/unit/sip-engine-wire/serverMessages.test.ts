import { describe, expect, it } from 'vitest';
import {
  buildAuthenticateFailed,
  buildAuthenticateOk,
  buildCdr,
  buildNok,
  buildOk,
  buildPong,
  buildRequestSent,
  buildResponseSent,
  buildSipMessage,
  parseServerMessage,
  UNSOLICITED_TXN_ID,
} from '../../../sip/engine/wire/serverMessages.js';
import { formatWireTime, wireTimeNow } from '../../../sip/engine/wire/wireTime.js';
import type { SipMessageMeta } from '../../../sip/engine/wire/wireTypes.js';

/** Tokenises a body exactly as drachtio-srf's DrachtioAgent#_onMsg does. */
function srfTokens(body: string): { token: string[]; rawMsg: string } {
  const pos = body.indexOf('\r');
  const leader = pos === -1 ? body : body.slice(0, pos);
  return { token: leader.split('|'), rawMsg: pos === -1 ? '' : body.slice(pos + 2) };
}

const INVITE = 'INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: c1\r\nFrom: <sip:a@x>;tag=ft\r\n\r\n';
const RESPONSE = 'SIP/2.0 486 Busy Here\r\nCall-ID: c1\r\n\r\n';
const networkMeta: SipMessageMeta = {
  source: 'network',
  bytes: 123,
  protocol: 'udp',
  address: '10.0.0.9',
  port: 5062,
  time: '12:34:56.000123',
};
const appMeta: SipMessageMeta = { ...networkMeta, source: 'application', address: '127.0.0.1', port: 5060 };

describe('server → app messages, read the way drachtio-srf reads them', () => {
  it('authenticate OK: hostport in response[1], version in response[2]', () => {
    const { token } = srfTokens(
      buildAuthenticateOk('s1', 'a1', ['udp/127.0.0.1:5060', 'tcp/127.0.0.1:5060'], 'v0.8.10'),
    );
    expect(token[1]).toBe('response');
    expect(token[2]).toBe('a1');
    const response = token.slice(3);
    expect(response).toEqual(['OK', 'udp/127.0.0.1:5060,tcp/127.0.0.1:5060', 'v0.8.10']);
  });

  it('authenticate refusal and pong', () => {
    expect(srfTokens(buildAuthenticateFailed('s', 'a')).token.slice(3)).toEqual(['NO', 'incorrect secret']);
    expect(srfTokens(buildPong('s', 'p')).token).toEqual(['s', 'response', 'p', 'OK', 'pong']);
    expect(srfTokens(buildOk('s', 'r')).token).toEqual(['s', 'response', 'r', 'OK']);
    expect(srfTokens(buildNok('s', 'r', 'unable to find dialog')).token.slice(3)).toEqual([
      'NOK',
      'unable to find dialog',
    ]);
  });

  it('inbound request: meta at tokens 2..7, txnId at 8, dialogId at 9, receivedOn at 10/11', () => {
    const body = buildSipMessage('s', networkMeta, 'txn-9', '', INVITE, { address: '127.0.0.1', port: 5060 });
    const { token, rawMsg } = srfTokens(body);
    expect(token.length).toBeGreaterThan(11);
    expect(token.slice(1, 12)).toEqual([
      'sip',
      'network',
      '123',
      'udp',
      '10.0.0.9',
      '5062',
      '12:34:56.000123',
      'txn-9',
      '',
      '127.0.0.1',
      '5060',
    ]);
    expect(rawMsg).toBe(INVITE);
  });

  it('in-dialog and unsolicited messages still have more than nine tokens', () => {
    const { token } = srfTokens(buildSipMessage('s', appMeta, UNSOLICITED_TXN_ID, 'c1;from-tag=ft', INVITE));
    expect(token.length).toBeGreaterThan(9);
    expect(token[2]).toBe('application');
    expect(token[8]).toBe('unsolicited');
    expect(token[9]).toBe('c1;from-tag=ft');
  });

  it('request sent: srf _makeRequest reads token.slice(3)[7] as the transaction id', () => {
    const body = buildRequestSent('s', 'app-msg', appMeta, 'txn-out', INVITE);
    const { token, rawMsg } = srfTokens(body);
    expect(token[2]).toBe('app-msg');
    const t = token.slice(3);
    expect(t[0]).toBe('OK');
    expect({
      source: t[1],
      protocol: t[3],
      address: t[4],
      port: t[5],
      time: t[6],
      transactionId: t[7],
    }).toEqual({
      source: 'application',
      protocol: 'udp',
      address: '127.0.0.1',
      port: '5060',
      time: '12:34:56.000123',
      transactionId: 'txn-out',
    });
    expect(token[12]).not.toBe('continue');
    expect(rawMsg).toBe(INVITE);
    expect(body).toContain('|txn-out|Msg sent:|\r\n');
  });

  it('response sent: srf meta2 reads txnId at token[10], dialogId at token[11]', () => {
    const body = buildResponseSent('s', 'app-msg', appMeta, 'txn-in', 'c1;from-tag=ft', RESPONSE);
    const { token, rawMsg } = srfTokens(body);
    expect(token[4]).toBe('application');
    expect(token[6]).toBe('udp');
    expect(token[7]).toBe('127.0.0.1');
    expect(token[8]).toBe('5060');
    expect(token[10]).toBe('txn-in');
    expect(token[11]).toBe('c1;from-tag=ft');
    expect(token[12]).toBe('');
    expect(rawMsg).toBe(RESPONSE);
    expect(body).toContain('|txn-in|c1;from-tag=ft||Msg sent:|\r\n');
  });

  it('cdr events: srf passes (source, time, [detail,] msg)', () => {
    expect(srfTokens(buildCdr('s', 'attempt', 'network', 't', INVITE)).token).toEqual([
      's',
      'cdr:attempt',
      'network',
      't',
    ]);
    expect(srfTokens(buildCdr('s', 'start', 'application', 't', INVITE, 'uas')).token[4]).toBe('uas');
    expect(srfTokens(buildCdr('s', 'stop', 'application', 't', INVITE, 'normal-release')).token[4]).toBe(
      'normal-release',
    );
  });
});

describe('parseServerMessage round trips', () => {
  it('sip message with receivedOn', () => {
    const body = buildSipMessage('s', networkMeta, 'txn', 'd', INVITE, { address: '::1', port: 5060 });
    expect(parseServerMessage(body)).toEqual({
      kind: 'sip',
      msgId: 's',
      meta: networkMeta,
      txnId: 'txn',
      dialogId: 'd',
      receivedOn: { address: '::1', port: 5060 },
      rawSip: INVITE,
    });
  });

  it('acknowledgements and cdrs', () => {
    expect(parseServerMessage(buildRequestSent('s', 'a', appMeta, 't', INVITE))).toMatchObject({
      kind: 'response',
      requestMsgId: 'a',
      ok: true,
      rawSip: INVITE,
    });
    expect(parseServerMessage(buildNok('s', 'a', 'why'))).toMatchObject({ ok: false, args: ['NOK', 'why'] });
    expect(parseServerMessage(buildCdr('s', 'stop', 'network', 't', INVITE, 'call-canceled'))).toEqual({
      kind: 'cdr',
      msgId: 's',
      event: 'stop',
      source: 'network',
      time: 't',
      detail: 'call-canceled',
      rawSip: INVITE,
    });
  });
});

describe('wire time', () => {
  it('formats UTC time of day with microseconds', () => {
    expect(formatWireTime(BigInt(Date.UTC(2026, 0, 1, 3, 4, 5)) * 1000n + 6n)).toBe('03:04:05.000006');
    expect(wireTimeNow(Date.UTC(2026, 0, 1, 23, 59, 59, 999))).toBe('23:59:59.999000');
  });
});
