export { cryptoLine, newMasterKey, usableCrypto } from './sdesCrypto.js';
export { SRTP_SUITES, suiteNamed } from './srtpSuites.js';
export { SrtpTransform, type Unprotected, type UnprotectFailure } from './srtpTransform.js';
export type * from './srtpTypes.js';
export { NO_ENCRYPTION } from './srtpTypes.js';
