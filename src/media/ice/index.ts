export { IceAgent, type IceAgentEvents } from './iceAgent.js';
export {
  candidatePriority,
  hostCandidate,
  pairPriority,
  parseCandidate,
  writeCandidate,
} from './iceCandidate.js';
export { newIceCredentials } from './iceCredentials.js';
export type * from './iceTypes.js';
export { DEFAULT_ICE_TIMERS } from './iceTypes.js';
export {
  type DecodedStun,
  decodeStun,
  encodeStun,
  hasValidFingerprint,
  isStunPacket,
  newTransactionId,
  STUN_BINDING,
  type StunClass,
  type StunEncodeOptions,
  type StunMessage,
  verifyIntegrity,
} from './stunMessage.js';
