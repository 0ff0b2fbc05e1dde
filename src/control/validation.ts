import type { z } from 'zod';
import { ApiError, type FieldProblem } from './apiError.js';

/** A field's path as a client writes it: `callFlow[2].timeoutMs`, `metadata.customer`. */
function fieldName(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i > 0 ? '.' : ''}${String(part)}`))
    .join('');
}

/** Zod's issues as the API reports them: one entry per offending field, named as the client sent it. */
export function fieldProblems(error: z.ZodError, root: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    const base = fieldName(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ field: base ? `${base}.${key}` : key, message: 'unknown field' });
      }
      continue;
    }
    problems.push({ field: base || root, message: issue.message });
  }
  return problems;
}

/** Parses `value` with `schema` or throws a 400 naming every field at fault. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, root: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw ApiError.badRequest(fieldProblems(result.error, root));
  return result.data;
}
