import {
  InvalidInput,
  RateLimited,
  UpstreamRejected,
  UpstreamUnavailable,
  type ErrorDetails,
  type ErrorName,
  type SmsStatusError,
} from '#lib/errors.ts';

/**
 * Every code of the API document and every API 3.0 common code, mapped explicitly; prefixes catch
 * codes Tencent adds later. Packet and signature problems are ours, not the caller's, so they are
 * "rejected" (502) rather than "invalid input" (400).
 */
const EXACT: Record<string, ErrorName> = {
  'FailedOperation.FailResolvePacket': 'UpstreamRejected',
  'FailedOperation.JsonParseFail': 'UpstreamRejected',
  'FailedOperation.PhoneNumberInBlacklist': 'InvalidInput',
  'InternalError.JsonParseFail': 'UpstreamRejected',
  'InternalError.OtherError': 'UpstreamUnavailable',
  'InternalError.RequestTimeException': 'UpstreamRejected',
  'InternalError.RestApiInterfaceNotExist': 'UpstreamRejected',
  'InternalError.SendAndRecvFail': 'UpstreamUnavailable',
  'InternalError.SigFieldMissing': 'UpstreamRejected',
  'InternalError.SigVerificationFail': 'UpstreamRejected',
  'InternalError.Timeout': 'UpstreamUnavailable',
  'InternalError.UnknownError': 'UpstreamUnavailable',
  'InvalidParameterValue.SdkAppIdNotExist': 'UpstreamRejected',
  ActionOffline: 'UpstreamRejected',
  DryRunOperation: 'UpstreamRejected',
  FailedOperation: 'UpstreamRejected',
  InternalError: 'UpstreamUnavailable',
  InvalidAction: 'UpstreamRejected',
  InvalidRequest: 'UpstreamRejected',
  IpInBlacklist: 'UpstreamRejected',
  IpNotInWhitelist: 'UpstreamRejected',
  LimitExceeded: 'UpstreamRejected',
  NoSuchProduct: 'UpstreamRejected',
  NoSuchVersion: 'UpstreamRejected',
  RequestSizeLimitExceeded: 'UpstreamRejected',
  ResourceInUse: 'UpstreamRejected',
  ResourceInsufficient: 'UpstreamUnavailable',
  ResourceNotFound: 'UpstreamRejected',
  ResourceUnavailable: 'UpstreamUnavailable',
  ResponseSizeLimitExceeded: 'UpstreamRejected',
  ServiceUnavailable: 'UpstreamUnavailable',
  UnknownParameter: 'UpstreamRejected',
  UnsupportedOperation: 'UpstreamRejected',
  UnsupportedProtocol: 'UpstreamRejected',
  UnsupportedRegion: 'UpstreamRejected',
};

const PREFIXES: Array<[string, ErrorName]> = [
  ['RequestLimitExceeded', 'RateLimited'],
  ['InvalidParameter', 'InvalidInput'],
  ['MissingParameter', 'InvalidInput'],
  ['AuthFailure', 'UpstreamRejected'],
  ['UnauthorizedOperation', 'UpstreamRejected'],
  ['UnsupportedOperation', 'UpstreamRejected'],
  ['InternalError', 'UpstreamUnavailable'],
];

/** Codes worth one immediate retry with a fresh timestamp (clock skew), not a backoff. */
export const RESIGN_CODES: ReadonlySet<string> = new Set([
  'AuthFailure.SignatureExpire',
  'InternalError.RequestTimeException',
]);

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Tencent throttled the account (RequestLimitExceeded and its sub-codes). */
export function isThrottle(error: unknown): boolean {
  return codeOf(error).startsWith('RequestLimitExceeded');
}

/** A stale signature: signing again with a fresh timestamp cures it. */
export function shouldResign(error: unknown): boolean {
  return RESIGN_CODES.has(codeOf(error));
}

/**
 * Tencent refused the key itself: a cached secret may have been rotated. A stale signature is the
 * clock's fault, not the key's: reading the key again would not help.
 */
export function invalidatesCredentials(error: unknown): boolean {
  const code = codeOf(error);
  return code.startsWith('AuthFailure') && code !== 'AuthFailure.SignatureExpire';
}

export function classify(code: string): ErrorName {
  if (Object.hasOwn(EXACT, code)) return EXACT[code] as ErrorName;
  return PREFIXES.find(([prefix]) => code.startsWith(prefix))?.[1] ?? 'UpstreamRejected';
}

const CONSTRUCTORS: Record<ErrorName, new (detail: string, details: ErrorDetails) => SmsStatusError> = {
  InvalidInput,
  RateLimited,
  UpstreamUnavailable,
  UpstreamRejected,
};

export function fromTencentError(code: string, message: string, requestId?: string): SmsStatusError {
  const name = classify(code);
  return new CONSTRUCTORS[name](message || code, {
    code,
    requestId,
    retryAfterSeconds: name === 'RateLimited' ? 1 : undefined,
  });
}
