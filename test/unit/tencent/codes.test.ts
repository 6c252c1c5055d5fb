import { describe, expect, it } from 'vitest';
import {
  RESIGN_CODES,
  classify,
  fromTencentError,
  invalidatesCredentials,
  isThrottle,
  shouldResign,
} from '#lib/tencent/codes.ts';
import {
  InvalidInput,
  RateLimited,
  SmsStatusError,
  UpstreamRejected,
  UpstreamUnavailable,
  type ErrorName,
} from '#lib/errors.ts';
import { errorBody } from '#lib/error-body.ts';

/**
 * Expected class per code, from the retry guidance in tencent-cloud-notes.md: retryable codes are
 * RateLimited/UpstreamUnavailable, never-retry codes InvalidInput/UpstreamRejected; the caller's own
 * parameters (and an opted-out number) are InvalidInput; credentials, permissions and the app are
 * UpstreamRejected.
 */
const PRODUCT_CODES: Array<[string, ErrorName]> = [
  // Every code of PullSmsSendStatusByPhoneNumber.md, in the document's order.
  ['FailedOperation.FailResolvePacket', 'UpstreamRejected'],
  ['FailedOperation.JsonParseFail', 'UpstreamRejected'],
  ['FailedOperation.PhoneNumberInBlacklist', 'InvalidInput'],
  ['InternalError.JsonParseFail', 'UpstreamRejected'],
  ['InternalError.OtherError', 'UpstreamUnavailable'],
  ['InternalError.RequestTimeException', 'UpstreamRejected'],
  ['InternalError.RestApiInterfaceNotExist', 'UpstreamRejected'],
  ['InternalError.SendAndRecvFail', 'UpstreamUnavailable'],
  ['InternalError.SigFieldMissing', 'UpstreamRejected'],
  ['InternalError.SigVerificationFail', 'UpstreamRejected'],
  ['InternalError.Timeout', 'UpstreamUnavailable'],
  ['InternalError.UnknownError', 'UpstreamUnavailable'],
  ['InvalidParameter', 'InvalidInput'],
  ['InvalidParameterValue.BeginTimeVerifyFail', 'InvalidInput'],
  ['InvalidParameterValue.EndTimeVerifyFail', 'InvalidInput'],
  ['InvalidParameterValue.IncorrectPhoneNumber', 'InvalidInput'],
  ['InvalidParameterValue.InvalidStartTime', 'InvalidInput'],
  ['InvalidParameterValue.SdkAppIdNotExist', 'UpstreamRejected'],
  ['MissingParameter', 'InvalidInput'],
  ['UnauthorizedOperation.RequestIpNotInWhitelist', 'UpstreamRejected'],
  ['UnauthorizedOperation.RequestPermissionDeny', 'UpstreamRejected'],
  ['UnauthorizedOperation.SdkAppIdIsDisabled', 'UpstreamRejected'],
  ['UnauthorizedOperation.ServiceSuspendDueToArrears', 'UpstreamRejected'],
  ['UnauthorizedOperation.SmsSdkAppIdVerifyFail', 'UpstreamRejected'],
  ['UnsupportedOperation.', 'UpstreamRejected'],
];

const COMMON_CODES: Array<[string, ErrorName]> = [
  ['AuthFailure.InvalidAuthorization', 'UpstreamRejected'],
  ['AuthFailure.InvalidSecretId', 'UpstreamRejected'],
  ['AuthFailure.MFAFailure', 'UpstreamRejected'],
  ['AuthFailure.SecretIdNotFound', 'UpstreamRejected'],
  ['AuthFailure.SignatureExpire', 'UpstreamRejected'],
  ['AuthFailure.SignatureFailure', 'UpstreamRejected'],
  ['AuthFailure.TokenFailure', 'UpstreamRejected'],
  ['AuthFailure.UnauthorizedOperation', 'UpstreamRejected'],
  ['ActionOffline', 'UpstreamRejected'],
  ['DryRunOperation', 'UpstreamRejected'],
  ['FailedOperation', 'UpstreamRejected'],
  ['InternalError', 'UpstreamUnavailable'],
  ['InvalidAction', 'UpstreamRejected'],
  ['InvalidParameterValue', 'InvalidInput'],
  ['InvalidRequest', 'UpstreamRejected'],
  ['IpInBlacklist', 'UpstreamRejected'],
  ['IpNotInWhitelist', 'UpstreamRejected'],
  ['LimitExceeded', 'UpstreamRejected'],
  ['NoSuchProduct', 'UpstreamRejected'],
  ['NoSuchVersion', 'UpstreamRejected'],
  ['RequestLimitExceeded', 'RateLimited'],
  ['RequestLimitExceeded.GlobalRegionUinLimitExceeded', 'RateLimited'],
  ['RequestLimitExceeded.IPLimitExceeded', 'RateLimited'],
  ['RequestLimitExceeded.UinLimitExceeded', 'RateLimited'],
  ['RequestSizeLimitExceeded', 'UpstreamRejected'],
  ['ResourceInUse', 'UpstreamRejected'],
  ['ResourceInsufficient', 'UpstreamUnavailable'],
  ['ResourceNotFound', 'UpstreamRejected'],
  ['ResourceUnavailable', 'UpstreamUnavailable'],
  ['ResponseSizeLimitExceeded', 'UpstreamRejected'],
  ['ServiceUnavailable', 'UpstreamUnavailable'],
  ['UnauthorizedOperation', 'UpstreamRejected'],
  // Not the caller's parameters: only our own request can carry an unknown one.
  ['UnknownParameter', 'UpstreamRejected'],
  ['UnsupportedOperation', 'UpstreamRejected'],
  ['UnsupportedProtocol', 'UpstreamRejected'],
  ['UnsupportedRegion', 'UpstreamRejected'],
  // From the Go SDK's errors.go (one spelling kept as Tencent has it).
  ['InvalidParameterValue.LimitVerifyFail', 'InvalidInput'],
  ['InvalidParameterValue.OffsetVerifyFail', 'InvalidInput'],
  ['UnauthorizedOperation.SerivceSuspendDueToArrears', 'UpstreamRejected'],
];

const EXPECTED: Record<
  ErrorName,
  { cls: abstract new (...args: never[]) => SmsStatusError; statusCode: number; retryable: boolean }
> = {
  InvalidInput: { cls: InvalidInput, statusCode: 400, retryable: false },
  RateLimited: { cls: RateLimited, statusCode: 429, retryable: true },
  UpstreamUnavailable: { cls: UpstreamUnavailable, statusCode: 503, retryable: true },
  UpstreamRejected: { cls: UpstreamRejected, statusCode: 502, retryable: false },
};

/** Codes the notes say to retry with backoff; everything here must come out retryable. */
const RETRY_WITH_BACKOFF = [
  'RequestLimitExceeded',
  'RequestLimitExceeded.GlobalRegionUinLimitExceeded',
  'RequestLimitExceeded.IPLimitExceeded',
  'RequestLimitExceeded.UinLimitExceeded',
  'InternalError',
  'InternalError.Timeout',
  'InternalError.SendAndRecvFail',
  'ServiceUnavailable',
  'ResourceUnavailable',
  'ResourceInsufficient',
];

/** Codes the notes say never to retry. */
const NEVER_RETRY = [
  'AuthFailure.InvalidAuthorization',
  'AuthFailure.InvalidSecretId',
  'AuthFailure.MFAFailure',
  'AuthFailure.SecretIdNotFound',
  'AuthFailure.SignatureFailure',
  'AuthFailure.TokenFailure',
  'AuthFailure.UnauthorizedOperation',
  'UnauthorizedOperation',
  'UnauthorizedOperation.RequestIpNotInWhitelist',
  'UnauthorizedOperation.SerivceSuspendDueToArrears',
  'InvalidParameter',
  'InvalidParameterValue',
  'InvalidParameterValue.IncorrectPhoneNumber',
  'MissingParameter',
  'UnknownParameter',
  'InvalidAction',
  'NoSuchVersion',
  'UnsupportedProtocol',
  'UnsupportedRegion',
  'LimitExceeded',
  'FailedOperation.PhoneNumberInBlacklist',
];

describe('fromTencentError maps every documented code', () => {
  it('covers all 25 codes of the API document and the common codes without overlap', () => {
    expect(PRODUCT_CODES).toHaveLength(25);
    const all = [...PRODUCT_CODES, ...COMMON_CODES].map(([code]) => code);
    // InvalidParameter and MissingParameter appear in both lists in the sources; they are listed once here.
    expect(new Set(all).size).toBe(all.length);
  });

  it.each([...PRODUCT_CODES, ...COMMON_CODES])('%s → %s', (code, name) => {
    const requestId = `rid-${code.length}-8979fc1e`;
    const error = fromTencentError(code, `Tencent says ${code} happened`, requestId);
    const expected = EXPECTED[name];
    expect(error).toBeInstanceOf(expected.cls);
    expect(error).toBeInstanceOf(SmsStatusError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.statusCode).toBe(expected.statusCode);
    expect(error.retryable).toBe(expected.retryable);
    expect(error.code).toBe(code);
    expect(error.requestId).toBe(requestId);
    expect(error.message).toContain(code);
    expect(error.message).toContain(`RequestId ${requestId}`);
    expect(error.detail).toBe(`Tencent says ${code} happened`);
    expect(error.expose).toBe(true);
    expect(error.retryAfterSeconds).toBe(name === 'RateLimited' ? 1 : undefined);
    expect(classify(code)).toBe(name);
  });

  it.each(RETRY_WITH_BACKOFF)('%s is retryable (RateLimited or UpstreamUnavailable)', (code) => {
    const error = fromTencentError(code, 'x');
    expect(error.retryable).toBe(true);
    expect(['RateLimited', 'UpstreamUnavailable']).toContain(error.name);
  });

  it.each(NEVER_RETRY)('%s is never retried (InvalidInput or UpstreamRejected)', (code) => {
    const error = fromTencentError(code, 'x');
    expect(error.retryable).toBe(false);
    expect(['InvalidInput', 'UpstreamRejected']).toContain(error.name);
  });

  it('falls back on the code itself when Tencent sends no message, and leaves RequestId out when absent', () => {
    const error = fromTencentError('InternalError.Timeout', '');
    expect(error.detail).toBe('InternalError.Timeout');
    expect(error.message).toBe('InternalError.Timeout: InternalError.Timeout');
    expect(error.requestId).toBeUndefined();
  });

  it('formats the message as "code: detail (RequestId id)"', () => {
    const error = fromTencentError('FailedOperation.PhoneNumberInBlacklist', 'opted out', 'abc-123');
    expect(error.message).toBe('FailedOperation.PhoneNumberInBlacklist: opted out (RequestId abc-123)');
  });

  it.each([
    ['RequestLimitExceeded.SomethingNew', 'RateLimited'],
    ['InternalError.SomethingNew', 'UpstreamUnavailable'],
    ['InvalidParameterValue.SomethingNew', 'InvalidInput'],
    ['AuthFailure.SomethingNew', 'UpstreamRejected'],
    ['UnauthorizedOperation.SomethingNew', 'UpstreamRejected'],
    ['FailedOperation.SomethingNew', 'UpstreamRejected'],
    ['CompletelyUnknown', 'UpstreamRejected'],
    ['', 'UpstreamRejected'],
  ] as Array<[string, ErrorName]>)('classifies a code Tencent adds later: %s → %s', (code, name) => {
    expect(fromTencentError(code, 'm', 'r').name).toBe(name);
  });

  it('yields a taxonomy error for any code string, including Object.prototype names (no prototype lookups)', () => {
    for (const code of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      const error = fromTencentError(code, 'm', 'r');
      expect(error, code).toBeInstanceOf(UpstreamRejected);
      expect(error.code).toBe(code);
    }
  });
});

describe('RESIGN_CODES', () => {
  it('contains AuthFailure.SignatureExpire', () => {
    expect(RESIGN_CODES.has('AuthFailure.SignatureExpire')).toBe(true);
  });

  it('does not contain codes that a fresh signature cannot fix', () => {
    expect(RESIGN_CODES.has('AuthFailure.SignatureFailure')).toBe(false);
    expect(RESIGN_CODES.has('AuthFailure.SecretIdNotFound')).toBe(false);
    expect(RESIGN_CODES.has('RequestLimitExceeded')).toBe(false);
  });
});

describe('errorBody', () => {
  it('exposes code, detail, requestId and field of a taxonomy error', () => {
    expect(errorBody(fromTencentError('InvalidParameterValue.IncorrectPhoneNumber', 'bad number', 'rid-1'))).toEqual({
      error: { code: 'InvalidParameterValue.IncorrectPhoneNumber', message: 'bad number', requestId: 'rid-1' },
    });
    const invalid = new InvalidInput('limit must be a whole number', {
      field: 'limit',
      code: 'InvalidParameterValue.LimitVerifyFail',
    });
    const body = errorBody(invalid);
    expect(body).toEqual({
      error: { code: 'InvalidParameterValue.LimitVerifyFail', message: 'limit must be a whole number', field: 'limit' },
    });
    expect(body.error.requestId).toBeUndefined();
  });

  it('keeps anything outside the taxonomy opaque', () => {
    const body = errorBody(new Error('ECONNREFUSED 10.0.0.1:443 secretKey=hunter2'));
    expect(body).toStrictEqual({ error: { code: 'InternalError', message: 'internal error' } });
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(errorBody('a string')).toStrictEqual({ error: { code: 'InternalError', message: 'internal error' } });
    expect(errorBody(undefined)).toStrictEqual({ error: { code: 'InternalError', message: 'internal error' } });
  });

  it('uses each class default code when none is given', () => {
    expect(new InvalidInput('x').code).toBe('InvalidParameter');
    expect(new RateLimited('x').code).toBe('RequestLimitExceeded');
    expect(new UpstreamUnavailable('x').code).toBe('InternalError');
    expect(new UpstreamRejected('x').code).toBe('UnauthorizedOperation');
    expect(new UpstreamUnavailable('slow', { statusCode: 504 }).statusCode).toBe(504);
  });
});

describe('what the pacer and the key refresh learn from a code', () => {
  it('isThrottle: RequestLimitExceeded and its sub-codes only', () => {
    expect(isThrottle(fromTencentError('RequestLimitExceeded', 'x'))).toBe(true);
    expect(isThrottle(fromTencentError('RequestLimitExceeded.PhoneNumberDailyLimit', 'x'))).toBe(true);
    expect(isThrottle(fromTencentError('InternalError', 'x'))).toBe(false);
    expect(isThrottle(new Error('RequestLimitExceeded'))).toBe(false);
    expect(isThrottle(undefined)).toBe(false);
  });
  it('shouldResign: the stale-signature codes only', () => {
    expect(shouldResign(fromTencentError('AuthFailure.SignatureExpire', 'x'))).toBe(true);
    expect(shouldResign(fromTencentError('AuthFailure.SignatureFailure', 'x'))).toBe(false);
    expect(shouldResign({ code: 42 })).toBe(false);
  });
  it('invalidatesCredentials: every AuthFailure but a stale signature (the clock, not the key: re-reading it would not help)', () => {
    expect(invalidatesCredentials(fromTencentError('AuthFailure.SecretIdNotFound', 'x'))).toBe(true);
    expect(invalidatesCredentials(fromTencentError('AuthFailure.SignatureFailure', 'x'))).toBe(true);
    expect(invalidatesCredentials(fromTencentError('AuthFailure.SignatureExpire', 'x'))).toBe(false);
    expect(invalidatesCredentials(fromTencentError('UnauthorizedOperation', 'x'))).toBe(false);
    expect(invalidatesCredentials(null)).toBe(false);
  });
});
