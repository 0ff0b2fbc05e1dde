/** Every pair in the worker's range is leased or taken by another process: the call gets 503. */
export class PortsExhaustedError extends Error {
  override readonly name = 'PortsExhaustedError';
  readonly code = 'ports_exhausted';
}
