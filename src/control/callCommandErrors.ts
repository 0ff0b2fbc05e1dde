import { CallCommandError } from '../calls/callErrors.js';
import { ApiError } from './apiError.js';

const STATUS = {
  invalid_request: 400,
  not_found: 404,
  conflict: 409,
  not_implemented: 501,
  answer_failed: 502,
} as const;

function toApiError(error: unknown): unknown {
  if (!(error instanceof CallCommandError)) return error;
  if (error.details) return ApiError.badRequest(error.details);
  return new ApiError(STATUS[error.kind], error.kind, error.message);
}

/** Runs a call command, turning its refusals into the API's errors. */
export async function asApiErrors<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toApiError(error);
  }
}
