import type { FastifyError } from 'fastify';
import { ApiError } from './apiError.js';

/**
 * Longest path segment (an id in a path) fastify matches. Every id the API knows is under 40
 * characters; a longer segment is answered 414 before any route runs.
 */
export const MAX_PATH_SEGMENT_LENGTH = 100;

/**
 * Errors fastify raises itself (body reading, size limits, URLs it cannot route) in the API's
 * error shape, so a client meets one shape whatever refused its request.
 */
export function toApiError(error: FastifyError): ApiError {
  if (error instanceof ApiError) return error;
  const code = error.code ?? '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new ApiError(413, 'body_too_large', 'the request body is too large');
  if (code === 'FST_ERR_BAD_URL') {
    return ApiError.badRequest([{ field: 'url', message: 'has a malformed percent-encoding' }]);
  }
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return new ApiError(
      414,
      'uri_too_long',
      `a path segment is longer than ${MAX_PATH_SEGMENT_LENGTH} characters`,
    );
  }
  if (code.startsWith('FST_ERR_CTP') || error instanceof SyntaxError) {
    return ApiError.badRequest([{ field: 'body', message: 'must be a JSON object' }]);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new ApiError(error.statusCode, 'bad_request', error.message);
  }
  return new ApiError(500, 'internal', 'internal error');
}
