export { AdaptiveJitterBuffer } from './adaptiveJitterBuffer.js';
export type {
  JitterBufferOptions,
  JitterBufferStats,
  JitterFrame,
  JitterFrameKind,
  JitterPacket,
} from './jitterBufferTypes.js';
export { JitterPlayout, type JitterPlayoutStats } from './jitterPlayout.js';
