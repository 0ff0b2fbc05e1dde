export { CODECS } from './codecCatalog.js';
export { intersectDirections, reverseDirection } from './negotiateAudio.js';
export { encryptionRefusal } from './offerEncryption.js';
export { parseSdp } from './parseSdp.js';
export { SdpSession } from './SdpSession.js';
export {
  SdpError,
  type SdpErrorCode,
  SdpMalformedError,
  SdpNotAcceptableError,
  SdpStateError,
} from './sdpErrors.js';
export type * from './sdpTypes.js';
