// The one error type of Eddy. A closed set of codes, mapped to HTTP in exactly one place
// (lib/http/respond.ts) so handlers never invent status codes or leak internals.

export const errorStatus = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  // A per-account cap (lib/accounts/limits.ts): allowed in general, not one more of these.
  limit_reached: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  config: 500,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class EddyError extends Error {
  readonly code: ErrorCode;
  /** Seconds a client should wait before retrying (503/429). */
  readonly retryAfter?: number;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; retryAfter?: number } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'EddyError';
    this.code = code;
    this.retryAfter = opts.retryAfter;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export function isEddyError(e: unknown): e is EddyError {
  return e instanceof EddyError;
}
