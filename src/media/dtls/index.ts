export { createDtlsCertificate } from './dtlsCertificate.js';
export { fingerprintOf, matchesFingerprint, parseFingerprint, writeFingerprint } from './dtlsFingerprint.js';
export { answerSetup, dtlsRoleFor, parseSetup, roleFromAnswer } from './dtlsSetup.js';
export { DtlsSrtpHandshake, type DtlsSrtpHandshakeOptions } from './dtlsSrtpHandshake.js';
export type * from './dtlsTypes.js';
export { DtlsSetupError } from './dtlsTypes.js';
