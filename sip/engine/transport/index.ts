export * from './addressUtils.js';
export * from './outgoingHeaders.js';
export * from './stampVia.js';
export * from './transportError.js';
export * from './transportLayer.js';
export * from './transportTypes.js';
