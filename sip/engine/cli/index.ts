export { EngineArgsError } from './engineArgsError.js';
export type * from './engineOptionsTypes.js';
export { DEFAULT_ADMIN_ADDRESS, DEFAULT_LOG_LEVEL } from './engineOptionsTypes.js';
export { parseContact } from './parseContact.js';
export { parseEngineArgs } from './parseEngineArgs.js';
export { ENGINE_USAGE } from './usage.js';
