/** Every failure a caller can see, by stable code; the HTTP status of each lives here and nowhere else. */
export const errorStatus = {
  VALIDATION_FAILED: 400,
  UNKNOWN_REFERENCE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  ALREADY_EXISTS: 409,
  INSUFFICIENT_STOCK: 409,
  VERSION_CONFLICT: 409,
  INVALID_TRANSITION: 409,
  PRODUCT_DISCONTINUED: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_MISMATCH: 422,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  DEPENDENCY_UNAVAILABLE: 503,
  OVERLOADED: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/** An expected failure with a stable code, safe to show the caller. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return errorStatus[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

/** A refusal given again for an Idempotency-Key it was first given under: the same code, message and details. */
export class ReplayedRefusal extends AppError {
  /** The refusal an answer body (`toBody()`) kept. */
  static of(body: ErrorBody): ReplayedRefusal {
    return new ReplayedRefusal(body.error.code, body.error.message, body.error.details);
  }
}

export type ErrorBody = { error: { code: ErrorCode; message: string; details?: unknown } };

export const notFound = (what: string, id: string) => new AppError('NOT_FOUND', `${what} ${id} not found`, { id });
