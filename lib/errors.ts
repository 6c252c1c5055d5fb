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

/** What a member of the taxonomy is by default: its code, its HTTP status, and whether to retry it. */
export interface ErrorKind {
  code: string;
  statusCode: number;
  retryable: boolean;
}

export abstract class SmsStatusError extends Error {
  abstract override readonly name: ErrorName;
  readonly retryable: boolean;
  readonly expose = true;
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  readonly field: string | undefined;
  readonly statusCode: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(detail: string, details: ErrorDetails = {}) {
    const kind = KINDS.get(new.target) as ErrorKind;
    const code = details.code ?? kind.code;
    // Lambda serialises only name and message, so the code and RequestId travel in the message.
    super(`${code}: ${detail}${details.requestId ? ` (RequestId ${details.requestId})` : ''}`, {
      cause: details.cause,
    });
    this.retryable = kind.retryable;
    this.code = code;
    this.detail = detail;
    this.requestId = details.requestId;
    this.field = details.field;
    this.statusCode = details.statusCode ?? kind.statusCode;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

export class InvalidInput extends SmsStatusError {
  override readonly name = 'InvalidInput';
}
export class RateLimited extends SmsStatusError {
  override readonly name = 'RateLimited';
}
export class UpstreamUnavailable extends SmsStatusError {
  override readonly name = 'UpstreamUnavailable';
}
export class UpstreamRejected extends SmsStatusError {
  override readonly name = 'UpstreamRejected';
}

/**
 * Each member of the taxonomy by default, as data:
 * - InvalidInput: the caller sent something we or Tencent cannot accept. Never retry.
 * - RateLimited: over the request budget, ours or Tencent's. Retry after a pause.
 * - UpstreamUnavailable: Tencent down, failing, slow or unreachable (503; 504 for timeouts). Retry with backoff.
 * - UpstreamRejected: Tencent refused our credentials, app, permissions or request. A configuration problem: do not
 * retry.
 */
const KINDS = new Map<object, ErrorKind>([
  [InvalidInput, { code: 'InvalidParameter', statusCode: 400, retryable: false }],
  [RateLimited, { code: 'RequestLimitExceeded', statusCode: 429, retryable: true }],
  [UpstreamUnavailable, { code: 'InternalError', statusCode: 503, retryable: true }],
  [UpstreamRejected, { code: 'UnauthorizedOperation', statusCode: 502, retryable: false }],
]);

export function isSmsStatusError(error: unknown): error is SmsStatusError {
  return error instanceof SmsStatusError;
}
