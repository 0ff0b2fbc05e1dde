export interface FieldProblem {
  /** The field at fault, dotted for nested fields (`metadata.customer`), `body` for the whole body. */
  field: string;
  message: string;
}

/**
 * An error the API answers with `{ "error": { code, message, details? } }`. Handlers throw it;
 * the server's error handler is the one place that turns it (and every other error) into JSON.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: FieldProblem[],
  ) {
    super(message);
  }

  static badRequest(details: FieldProblem[]): ApiError {
    const fields = [...new Set(details.map((d) => d.field))].join(', ');
    return new ApiError(400, 'invalid_request', `invalid value for ${fields}`, details);
  }

  static notFound(message: string): ApiError {
    return new ApiError(404, 'not_found', message);
  }

  toBody(): { error: { code: string; message: string; details?: FieldProblem[] } } {
    return {
      error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) },
    };
  }
}
