/** A configuration problem, described in one line that names the key and what was expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
