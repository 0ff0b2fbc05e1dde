/**
 * What the main process may import: the worker entry's name and the types. The classes run
 * inside media workers only and load native code (libopus, rtc-node's FFI) when imported, so
 * worker-side code imports them from their own files.
 */
export type { FrameClockOptions, FrameListener } from './frameClockTypes.js';
export type { MediaPipelineOptions } from './mediaPipelineTypes.js';
export type * from './mediaTimeoutTypes.js';
export type * from './rtpMediaSessionTypes.js';
export type { RtpSessionHandlerOptions } from './rtpSessionHandlerTypes.js';
export { RTP_WORKER_ENTRY } from './rtpWorkerEntryName.js';
export type * from './sessionRegistryTypes.js';
