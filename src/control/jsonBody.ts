import { ApiError, type FieldProblem } from './apiError.js';
import { findTooDeepText } from './jsonNesting.js';

/**
 * Deepest nesting a request body may have. Every body the API takes is a few levels deep (a call
 * flow's gather prompt is the deepest, at 4); the cap is the cheap scan that keeps a body built to
 * be deep from costing the parser, and everything after it, time or stack.
 */
export const MAX_BODY_DEPTH = 64;

/**
 * A request body as the API reads it: empty is no body, anything else must be JSON nested at
 * most `MAX_BODY_DEPTH` deep. Refusals are 400s naming `body` (and the top-level field that
 * went too deep, so a client can tell which of its fields to fix).
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  const tooDeep = findTooDeepText(text, MAX_BODY_DEPTH);
  if (tooDeep) {
    const problems: FieldProblem[] = [
      { field: 'body', message: `is nested deeper than ${MAX_BODY_DEPTH} levels` },
    ];
    if (tooDeep.key !== undefined) {
      problems.push({ field: tooDeep.key, message: `is nested deeper than the body allows` });
    }
    throw ApiError.badRequest(problems);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw ApiError.badRequest([{ field: 'body', message: 'is not valid JSON' }]);
  }
}
