/**
 * Messages the server sends to an app: builders, and a parser for the app side (tests, tools).
 *
 * Every layout is quoted with the drachtio-srf 5.0.29 code that reads it. srf tokenises the leader
 * (text before the first CR) on `|`; `token[0]` is our msgId, `token[1]` the type.
 */
import { joinWireMessage, splitWireMessage, WireMessageError } from './wireMessage.js';
import type {
  CdrEvent,
  CdrRole,
  CdrTerminationReason,
  MessageSource,
  ReceivedOn,
  ServerMessage,
  SipMessageMeta,
  WireProtocolName,
} from './wireTypes.js';

/** `<source>|<bytes>|<protocol>|<address>|<port>|<time>`, drachtio-server SipMsgData_t::toMessageFormat. */
function metaTokens(meta: SipMessageMeta): string[] {
  return [meta.source, String(meta.bytes), meta.protocol, meta.address, String(meta.port), meta.time];
}

// ---- responses to app commands ----

/**
 * `<id>|response|<appMsgId>|OK[|<arg>…]`. srf (`_onMsg` case 'response') looks up token[2] among its
 * pending requests and calls the callback with `token.slice(3)`, so args start at callback index 1.
 */
export function buildOk(msgId: string, appMsgId: string, ...args: string[]): string {
  return joinWireMessage([msgId, 'response', appMsgId, 'OK', ...args]);
}

/**
 * `<id>|response|<appMsgId>|NO|<reason>` — drachtio-server's createResponseMsg refusal (authenticate,
 * route, malformed commands). srf treats anything but `OK` in token[3] as failure.
 */
export function buildNo(msgId: string, appMsgId: string, reason: string): string {
  return joinWireMessage([msgId, 'response', appMsgId, 'NO', reason]);
}

/**
 * `<id>|response|<appMsgId>|NOK|<reason>` — drachtio-server's route_api_response failure for a `sip`
 * command. srf `_makeRequest` reports `token[1]` as the Error message and sets err.code ENODIALOG when
 * it matches /unable to find dialog/i; sendResponse passes `token[1]` to the callback.
 */
export function buildNok(msgId: string, appMsgId: string, reason: string): string {
  return joinWireMessage([msgId, 'response', appMsgId, 'NOK', reason]);
}

/**
 * `<id>|response|<appMsgId>|OK|<hostports>|<version>[|<localHostports>]` — srf `_onConnect`:
 * `hostport = response[1]`, `serverVersion = response[2]`, `localHostports = response[3]`, then emits
 * `connect(null, hostport, serverVersion, localHostports)`. Hostports are `udp/1.2.3.4:5060,tcp/…`.
 * srf starts pinging only when the version parses as `vX.Y.Z` >= v0.8.2 (serverVersionAtLeast).
 */
export function buildAuthenticateOk(
  msgId: string,
  appMsgId: string,
  hostports: readonly string[],
  version: string,
  localHostports?: readonly string[],
): string {
  const args = [hostports.join(','), version];
  if (localHostports !== undefined && localHostports.length > 0) args.push(localHostports.join(','));
  return buildOk(msgId, appMsgId, ...args);
}

/** `<id>|response|<appMsgId>|NO|incorrect secret` — srf emits `connect` with an Error. */
export function buildAuthenticateFailed(msgId: string, appMsgId: string): string {
  return buildNo(msgId, appMsgId, 'incorrect secret');
}

/** `<id>|response|<pingMsgId>|OK|pong` — srf drops it from pendingPingRequests. */
export function buildPong(msgId: string, appMsgId: string): string {
  return buildOk(msgId, appMsgId, 'pong');
}

/**
 * Acknowledges a request the server sent for the app (new request, in-dialog request, CANCEL, ACK):
 * `<id>|response|<appMsgId>|OK|<source>|<bytes>|<proto>|<addr>|<port>|<time>|<txnId>|Msg sent:|\r\n<SIP>`
 * (drachtio-server doSendRequestOutsideDialog / doSendRequestInsideDialog). srf `_makeRequest` reads
 * `token.slice(3)`: [1]=source, [3]=protocol, [4]=address, [5]=port, [6]=time, [7]=transactionId,
 * builds a Request from the SIP text and files it under pendingSipRequests[txnId], which is how it
 * later matches the `sip|network|…` responses carrying that txnId. The SIP text must be the request
 * exactly as sent (Via branch, From tag, Call-ID, CSeq), since srf builds dialogs from it.
 */
export function buildRequestSent(
  msgId: string,
  appMsgId: string,
  meta: SipMessageMeta,
  txnId: string,
  rawSip: string,
): string {
  return joinWireMessage(
    [msgId, 'response', appMsgId, 'OK', ...metaTokens(meta), txnId, 'Msg sent:', ''],
    rawSip,
  );
}

/**
 * Acknowledges a response the server sent for the app:
 * `<id>|response|<appMsgId>|OK|<source>|<bytes>|<proto>|<addr>|<port>|<time>|<txnId>|<dialogId>||Msg sent:|\r\n<SIP>`
 * (drachtio-server respondToSipRequest; note the empty token before `Msg sent:`). srf reads meta from
 * the full token list: [4]=source, [6]=protocol, [7]=address, [8]=port, [9]=time, [10]=txnId,
 * [11]=dialogId; `res.stackDialogId` becomes the UAS dialog id, and a 200 to INVITE registers the
 * app's ACK callback under it. token[12] must not be `continue` (it is empty here).
 */
export function buildResponseSent(
  msgId: string,
  appMsgId: string,
  meta: SipMessageMeta,
  txnId: string,
  dialogId: string,
  rawSip: string,
): string {
  return joinWireMessage(
    [msgId, 'response', appMsgId, 'OK', ...metaTokens(meta), txnId, dialogId, '', 'Msg sent:', ''],
    rawSip,
  );
}

/**
 * A SIP message for the app:
 * `<id>|sip|<source>|<bytes>|<proto>|<addr>|<port>|<time>|<txnId>|<dialogId>|[<recvAddr>|<recvPort>|]\r\n<SIP>`
 * (drachtio-server BaseClient::sendSipMessageToClient). srf `_onMsg` case 'sip': token[2]=source,
 * [4]=protocol, [5]=address, [6]=port, [7]=time, [8]=transactionId, [9]=dialogId, and
 * `receivedOn = token[10]:token[11]` when present. It ignores the message unless there are more than
 * nine tokens, hence the trailing `|`.
 *  - source `network`, request: a new request (srf routes it through its middleware; INVITEs are kept
 *    by Call-ID so a later CANCEL with the same Call-ID emits `cancel`), or an in-dialog request
 *    (srf finds the Dialog by dialogId = `<Call-ID>;from-tag=<UAC's From tag>`), or an ACK/PRACK (srf
 *    calls the callback registered under dialogId by the response acknowledgement).
 *  - source `network`, response: matched to the app's request by txnId (pendingSipRequests).
 *  - source `application`, request, txnId `unsolicited`: a request the server generated itself
 *    (a BYE after ACK timeout); srf delivers it to the dialog with `res.send` stubbed out.
 */
export function buildSipMessage(
  msgId: string,
  meta: SipMessageMeta,
  txnId: string,
  dialogId: string,
  rawSip: string,
  receivedOn?: ReceivedOn,
): string {
  const tokens = [msgId, 'sip', ...metaTokens(meta), txnId, dialogId];
  if (receivedOn !== undefined) tokens.push(receivedOn.address, String(receivedOn.port));
  tokens.push('');
  return joinWireMessage(tokens, rawSip);
}

/** The txnId drachtio-server uses for requests it generated on its own. */
export const UNSOLICITED_TXN_ID = 'unsolicited';

/**
 * `<id>|cdr:attempt|<source>|<time>\r\n<SIP>`, `<id>|cdr:start|<source>|<time>|<role>\r\n<SIP>`,
 * `<id>|cdr:stop|<source>|<time>|<reason>\r\n<SIP>` (drachtio-server Cdr::encodeMetaData).
 * srf calls the `cdr:<event>` handler with (source, time, [role|reason,] SipMessage).
 */
export function buildCdr(
  msgId: string,
  event: CdrEvent,
  source: MessageSource,
  time: string,
  rawSip: string,
  detail?: CdrRole | CdrTerminationReason,
): string {
  const tokens = [msgId, `cdr:${event}`, source, time];
  if (event !== 'attempt') tokens.push(detail ?? 'undefined');
  return joinWireMessage(tokens, rawSip);
}

// ---- parser (app side) ----

const PROTOCOLS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss', '']);

function parseMeta(tokens: readonly string[], at: number): SipMessageMeta {
  const source = tokens[at];
  if (source !== 'network' && source !== 'application') {
    throw new WireMessageError(`unknown message source '${source ?? ''}'`);
  }
  const protocol = tokens[at + 2] ?? '';
  return {
    source,
    bytes: Number(tokens[at + 1] ?? 0),
    protocol: (PROTOCOLS.has(protocol) ? protocol : '') as WireProtocolName,
    address: tokens[at + 3] ?? '',
    port: Number(tokens[at + 4] ?? 0),
    time: tokens[at + 5] ?? '',
  };
}

export function parseServerMessage(body: string): ServerMessage {
  const { msgId, type, args, sip } = splitWireMessage(body);
  if (type === 'response') {
    const requestMsgId = args[0] ?? '';
    const message: ServerMessage = {
      kind: 'response',
      msgId,
      requestMsgId,
      ok: args[1] === 'OK',
      args: args.slice(1),
    };
    if (sip !== undefined) message.rawSip = sip;
    return message;
  }
  if (type === 'sip') {
    if (sip === undefined) throw new WireMessageError('sip message without SIP text');
    const all = [msgId, type, ...args];
    const message: ServerMessage = {
      kind: 'sip',
      msgId,
      meta: parseMeta(all, 2),
      txnId: all[8] ?? '',
      dialogId: all[9] ?? '',
      rawSip: sip,
    };
    if (all.length > 11 && all[10] !== '')
      message.receivedOn = { address: all[10] ?? '', port: Number(all[11]) };
    return message;
  }
  if (type.startsWith('cdr:')) {
    const event = type.slice(4);
    if (event !== 'attempt' && event !== 'start' && event !== 'stop') {
      throw new WireMessageError(`unknown cdr event '${type}'`);
    }
    const source = args[0];
    if (source !== 'network' && source !== 'application') throw new WireMessageError('cdr without source');
    const message: ServerMessage = {
      kind: 'cdr',
      msgId,
      event,
      source,
      time: args[1] ?? '',
      rawSip: sip ?? '',
    };
    if (event !== 'attempt' && args[2] !== undefined) message.detail = args[2];
    return message;
  }
  throw new WireMessageError(`unknown server message type '${type}'`);
}
