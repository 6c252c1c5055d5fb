/**
 * The one error taxonomy of the product. `name` is what Step Functions `Retry`/`Catch` match on,
 * `statusCode`/`expose` follow the middy convention for `http-error-handler`.
 */
export type ErrorName = 'InvalidInput' | 'RateLimited' | 'UpstreamUnavailable' | 'UpstreamRejected';

export interface ErrorDetails {
  /** Tencent error code, or ours in the same style for problems found before a request. */
  code?: string;
  requestId?: string;
  /** The input field at fault (InvalidInput). */
  field?: string;
  statusCode?: number;
  retryAfterSeconds?: number;
  cause?: unknown;
}

export abstract class SmsStatusError extends Error {
  abstract override readonly name: ErrorName;
  abstract readonly retryable: boolean;
  readonly expose = true;
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  readonly field: string | undefined;
  readonly statusCode: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(detail: string, details: ErrorDetails, defaultCode: string, defaultStatus: number) {
    const code = details.code ?? defaultCode;
    // Lambda serialises only name and message, so the code and RequestId travel in the message.
    super(`${code}: ${detail}${details.requestId ? ` (RequestId ${details.requestId})` : ''}`, { cause: details.cause });
    this.code = code;
    this.detail = detail;
    this.requestId = details.requestId;
    this.field = details.field;
    this.statusCode = details.statusCode ?? defaultStatus;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** The caller sent something we or Tencent cannot accept. Never retry. */
export class InvalidInput extends SmsStatusError {
  override readonly name = 'InvalidInput';
  readonly retryable = false;
  constructor(detail: string, details: ErrorDetails = {}) {
    super(detail, details, 'InvalidParameter', 400);
  }
}

/** Over the request budget, ours or Tencent's. Retry after a pause. */
export class RateLimited extends SmsStatusError {
  override readonly name = 'RateLimited';
  readonly retryable = true;
  constructor(detail: string, details: ErrorDetails = {}) {
    super(detail, details, 'RequestLimitExceeded', 429);
  }
}

/** Tencent down, failing, slow or unreachable (503; 504 for timeouts). Retry with backoff. */
export class UpstreamUnavailable extends SmsStatusError {
  override readonly name = 'UpstreamUnavailable';
  readonly retryable = true;
  constructor(detail: string, details: ErrorDetails = {}) {
    super(detail, details, 'InternalError', 503);
  }
}

/** Tencent refused our credentials, app, permissions or request. A configuration problem: do not retry. */
export class UpstreamRejected extends SmsStatusError {
  override readonly name = 'UpstreamRejected';
  readonly retryable = false;
  constructor(detail: string, details: ErrorDetails = {}) {
    super(detail, details, 'UnauthorizedOperation', 502);
  }
}

export function isSmsStatusError(error: unknown): error is SmsStatusError {
  return error instanceof SmsStatusError;
}
