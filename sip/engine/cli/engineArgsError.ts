/** A command-line problem; the message is meant for the user, as is. */
export class EngineArgsError extends Error {
  override readonly name = 'EngineArgsError';
}
