export * from './coreTypes.js';
export * from './engine.js';
export * from './engineTypes.js';
