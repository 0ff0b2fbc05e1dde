import { wireTimeNow } from './wireTime.js';
import type { MessageSource, SipMessageMeta, WireProtocolName } from './wireTypes.js';

/**
 * Meta for a message the engine reports to an app. For `network` the address/port are the peer that
 * sent it; for `application` (what the engine sent on an app's behalf) they are the local transport
 * it left on, as drachtio-server reports them.
 */
export function sipMeta(
  source: MessageSource,
  rawSip: string,
  protocol: WireProtocolName,
  address: string,
  port: number,
  nowMs: number = Date.now(),
): SipMessageMeta {
  return {
    source,
    bytes: Buffer.byteLength(rawSip, 'utf8'),
    protocol,
    address,
    port,
    time: wireTimeNow(nowMs),
  };
}

/**
 * drachtio's dialog id: `<Call-ID>;from-tag=<tag of the From header of the dialog-creating request>`
 * (the UAC's tag, whichever side we are). srf keys its dialogs by it (Srf#findDialogByCallIDAndFromTag).
 */
export function dialogIdOf(callId: string, uacFromTag: string): string {
  return `${callId};from-tag=${uacFromTag}`;
}
