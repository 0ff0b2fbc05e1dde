export * from './appCommands.js';
export * from './frameCodec.js';
export * from './serverMessages.js';
export * from './sipMeta.js';
export * from './wireMessage.js';
export * from './wireTime.js';
export type * from './wireTypes.js';
