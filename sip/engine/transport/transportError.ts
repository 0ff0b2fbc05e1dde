/** A send that could not reach the network; transactions map it to a transport error (8.1.3.1). */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: 'no-listener' | 'connect-failed' | 'write-failed' | 'closed' | 'timeout',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}
