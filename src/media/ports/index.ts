export type { PortRange, RtpPortAllocatorOptions, RtpPortLease } from './portAllocatorTypes.js';
export { PortsExhaustedError } from './portErrors.js';
export { RtpPortAllocator } from './RtpPortAllocator.js';
export { pairsIn, splitPortRange } from './splitPortRange.js';
