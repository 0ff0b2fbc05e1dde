import { describe, expect, it } from 'vitest';
import {
  buildAuthenticate,
  buildPing,
  buildProxy,
  buildRemoveRoute,
  buildRoute,
  buildSipCommand,
  parseAppCommand,
} from '../../../sip/engine/wire/appCommands.js';
import { WireMessageError } from '../../../sip/engine/wire/wireMessage.js';

const INVITE = 'INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: abc\r\n\r\n';

describe('parseAppCommand', () => {
  it('parses what drachtio-srf writes for authenticate (with and without tags)', () => {
    expect(parseAppCommand('m1|authenticate|cymru|')).toEqual({
      kind: 'authenticate',
      msgId: 'm1',
      secret: 'cymru',
      tags: [],
    });
    expect(parseAppCommand('m1|authenticate|s|a,b')).toMatchObject({ tags: ['a', 'b'] });
  });

  it('parses route / remove_route, lower-casing the verb, cdr verbs included', () => {
    expect(parseAppCommand('m|route|INVITE')).toEqual({ kind: 'route', msgId: 'm', verb: 'invite' });
    expect(parseAppCommand('m|route|cdr:stop')).toEqual({ kind: 'route', msgId: 'm', verb: 'cdr:stop' });
    expect(parseAppCommand('m|remove_route|bye')).toEqual({ kind: 'remove_route', msgId: 'm', verb: 'bye' });
    expect(() => parseAppCommand('m|route|')).toThrow(WireMessageError);
  });

  it('parses sip commands: response in a transaction, in-dialog request, new request with a route url', () => {
    const response = 'SIP/2.0 486 Busy Here\r\nCall-ID: abc\r\n\r\n';
    expect(parseAppCommand(`m|sip|txn-1|\r\n${response}`)).toEqual({
      kind: 'sip',
      msgId: 'm',
      txnId: 'txn-1',
      dialogId: '',
      routeUrl: '',
      rawSip: response,
    });
    expect(parseAppCommand(`m|sip||abc;from-tag=x\r\nBYE sip:placeholder SIP/2.0\r\n\r\n`)).toMatchObject({
      txnId: '',
      dialogId: 'abc;from-tag=x',
    });
    expect(parseAppCommand(`m|sip|||sip:proxy.example.com\r\n${INVITE}`)).toMatchObject({
      routeUrl: 'sip:proxy.example.com',
      rawSip: INVITE,
    });
    expect(() => parseAppCommand('m|sip|txn|')).toThrow(/without a SIP message/);
  });

  it('parses proxy commands as srf writes them', () => {
    const body = `m|proxy|txn|remainInDialog|fullResponse||serial|2s||sip:a@1.2.3.4|sip:b@5.6.7.8\r\n${INVITE}`;
    expect(parseAppCommand(body)).toEqual({
      kind: 'proxy',
      msgId: 'm',
      txnId: 'txn',
      remainInDialog: true,
      fullResponse: true,
      followRedirects: false,
      simultaneous: false,
      provisionalTimeout: '2s',
      finalTimeout: '',
      destinations: ['sip:a@1.2.3.4', 'sip:b@5.6.7.8'],
      rawSip: INVITE,
    });
  });

  it('reports unknown types and rejects bodies without msgId or type', () => {
    expect(parseAppCommand('m|frobnicate|x')).toEqual({ kind: 'unknown', msgId: 'm', type: 'frobnicate' });
    expect(() => parseAppCommand('justonetoken')).toThrow(WireMessageError);
    expect(() => parseAppCommand('|ping')).toThrow(WireMessageError);
  });

  it('round-trips every builder', () => {
    const cases = [
      { kind: 'authenticate', msgId: 'a', secret: 's', tags: ['t1', 't2'] },
      { kind: 'route', msgId: 'b', verb: 'invite' },
      { kind: 'remove_route', msgId: 'c', verb: 'invite' },
      { kind: 'ping', msgId: 'd' },
      { kind: 'sip', msgId: 'e', txnId: 't', dialogId: 'd', routeUrl: 'sip:r', rawSip: INVITE },
      {
        kind: 'proxy',
        msgId: 'f',
        txnId: 't',
        remainInDialog: false,
        fullResponse: true,
        followRedirects: true,
        simultaneous: true,
        provisionalTimeout: '',
        finalTimeout: '5s',
        destinations: ['sip:x'],
        rawSip: INVITE,
      },
    ] as const;
    const built = [
      buildAuthenticate(cases[0]),
      buildRoute(cases[1]),
      buildRemoveRoute(cases[2]),
      buildPing(cases[3]),
      buildSipCommand(cases[4]),
      buildProxy(cases[5]),
    ];
    built.forEach((body, i) => {
      expect(parseAppCommand(body)).toEqual(cases[i]);
    });
  });
});
