import type { AppConnection } from '../apps/AppConnection.js';
import type { AppRegistry } from '../apps/AppRegistry.js';
import type { SipMessage } from '../message/messageTypes.js';
import { serializeMessage } from '../message/serializeMessage.js';
import type { MessageSource, SendResult } from '../transport/transportTypes.js';
import { sipMeta } from '../wire/sipMeta.js';
import { wireTimeNow } from '../wire/wireTime.js';
import type { CdrEvent, CdrRole, CdrTerminationReason, SipMessageMeta } from '../wire/wireTypes.js';

/** Meta of a message that arrived from the network: the peer's address. */
export function networkMetaOf(rawSip: string, source: MessageSource, nowMs: number): SipMessageMeta {
  return sipMeta('network', rawSip, source.transport, source.address, source.port, nowMs);
}

/** Meta of a message the engine sent: the local address it left from, as drachtio-server reports it. */
export function sentMetaOf(rawSip: string, result: SendResult, nowMs: number): SipMessageMeta {
  return sipMeta('application', rawSip, result.transport, result.localAddress, result.localPort, nowMs);
}

/** Sends a message received from the network to an app (`sip|network|…`). */
export function forwardToApp(
  app: AppConnection,
  message: SipMessage,
  source: MessageSource,
  txnId: string,
  dialogId: string,
  nowMs: number,
): void {
  const rawSip = serializeMessage(message).toString('utf8');
  app.sendSip({
    meta: networkMetaOf(rawSip, source, nowMs),
    txnId,
    dialogId,
    rawSip,
    receivedOn: { address: source.localAddress, port: source.localPort },
  });
}

/** A cdr event, to the app that routed it if any (drachtio-server sends cdrs to one app). */
export function emitCdr(
  registry: AppRegistry,
  event: CdrEvent,
  source: 'network' | 'application',
  message: SipMessage,
  nowMs: number,
  detail?: CdrRole | CdrTerminationReason,
): void {
  const app = registry.pickCdr(event);
  if (app === undefined) return;
  const n = {
    event,
    source,
    time: wireTimeNow(nowMs),
    rawSip: serializeMessage(message).toString('utf8'),
  };
  app.sendCdr(detail === undefined ? n : { ...n, detail });
}
