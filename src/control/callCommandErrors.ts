import { CallCommandError } from '../calls/callCommands.js';
import { ApiError } from './apiError.js';

const STATUS = { not_found: 404, conflict: 409, not_implemented: 501 } as const;

/** Runs a call command, turning its refusals into the API's errors. */
export function asApiErrors<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof CallCommandError) throw new ApiError(STATUS[error.kind], error.kind, error.message);
    throw error;
  }
}
