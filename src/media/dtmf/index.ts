export { DtmfReceiver } from './dtmfReceiver.js';
export { DtmfSender, telephoneEventPackets } from './dtmfSender.js';
export type {
  DtmfDigit,
  DtmfReceiverOptions,
  DtmfSenderOptions,
  OutgoingEventPacket,
  ReceivedDtmf,
  TelephoneEvent,
} from './dtmfTypes.js';
export { parseSipInfoDtmf, type SipInfoDtmf } from './sipInfoDtmf.js';
export {
  DTMF_DIGIT_PATTERN,
  digitToEvent,
  encodeTelephoneEvent,
  eventToDigit,
  FLASH_EVENT,
  isDtmfDigits,
  parseTelephoneEvent,
  TELEPHONE_EVENT_SIZE,
  TelephoneEventParseError,
} from './telephoneEvent.js';
