import type { IncomingHttpHeaders } from 'node:http';
import { ACTION, MAX_LIMIT, MAX_LOOKBACK_SECONDS, VERSION } from '#lib/tencent/types.ts';

/** A Tencent error answer: code and message. */
export interface TwinError {
  code: string;
  message: string;
}

export interface PullParams {
  SmsSdkAppId: string;
  PhoneNumber: string;
  BeginTime: number;
  EndTime?: number;
  Offset: number;
  Limit: number;
}

const REQUIRED = ['SmsSdkAppId', 'PhoneNumber', 'BeginTime', 'Offset', 'Limit'] as const;
const KNOWN = new Set<string>([...REQUIRED, 'EndTime']);
const E164 = /^\+[1-9]\d{6,14}$/;

function error(code: string, message: string): TwinError {
  return { code, message };
}

/** Checks the method and headers of a request before its signature, with the codes Tencent answers them. */
export function checkHeaders(method: string | undefined, headers: IncomingHttpHeaders): TwinError | undefined {
  if (method !== 'POST') return error('UnsupportedProtocol', 'The twin accepts POST with a JSON body only.');
  const action = headers['x-tc-action'];
  if (!action) return error('MissingParameter', 'The request is missing X-TC-Action.');
  if (action !== ACTION) return error('InvalidAction', `The action \`${String(action)}\` is not supported.`);
  if (headers['x-tc-version'] !== VERSION) return error('NoSuchVersion', `The version must be ${VERSION}.`);
  const region = headers['x-tc-region'];
  if (!region) return error('MissingParameter', 'The request is missing X-TC-Region.');
  if (!/^[a-z]{2,}(-[a-z]+)+(-\d+)?$/.test(String(region)))
    return error('UnsupportedRegion', 'The region is not supported.');
  if (!String(headers['content-type'] ?? '').startsWith('application/json')) {
    return error('InvalidRequest', 'Content-Type must be application/json.');
  }
  return undefined;
}

/** Checks the body of PullSmsSendStatusByPhoneNumber with the codes the API document gives. */
export function checkParams(body: unknown, sdkAppId: string, nowSeconds: number): PullParams | TwinError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return error('FailedOperation.FailResolvePacket', 'The request body must be a JSON object.');
  }
  const params = body as Record<string, unknown>;
  const unknown = Object.keys(params).find((key) => !KNOWN.has(key));
  if (unknown) return error('UnknownParameter', `The parameter \`${unknown}\` is not recognized.`);
  const missing = REQUIRED.find((key) => params[key] === undefined || params[key] === null);
  if (missing) return error('MissingParameter', `The request is missing a required parameter \`${missing}\`.`);
  for (const key of ['SmsSdkAppId', 'PhoneNumber'] as const) {
    if (typeof params[key] !== 'string') return error('InvalidParameter', `The parameter \`${key}\` must be a String.`);
  }
  for (const key of ['BeginTime', 'Offset', 'Limit', 'EndTime'] as const) {
    if (params[key] !== undefined && !Number.isInteger(params[key])) {
      return error('InvalidParameter', `The parameter \`${key}\` must be an Integer.`);
    }
  }
  const p = params as unknown as PullParams;
  if (!/^\d+$/.test(p.SmsSdkAppId))
    return error('InvalidParameterValue.SdkAppIdNotExist', 'The SdkAppId does not exist.');
  if (p.SmsSdkAppId !== sdkAppId) {
    return error(
      'UnauthorizedOperation.SmsSdkAppIdVerifyFail',
      'The SmsSdkAppId is not under the account of this key.',
    );
  }
  if (p.Offset !== 0) return error('InvalidParameterValue.OffsetVerifyFail', 'Offset is fixed at 0.');
  if (p.Limit < 1 || p.Limit > MAX_LIMIT)
    return error('InvalidParameterValue.LimitVerifyFail', `Limit must be 1 to ${MAX_LIMIT}.`);
  if (!E164.test(p.PhoneNumber))
    return error('InvalidParameterValue.IncorrectPhoneNumber', 'Incorrect mobile number format.');
  if (p.BeginTime < nowSeconds - MAX_LOOKBACK_SECONDS || p.BeginTime > nowSeconds) {
    return error('InvalidParameterValue.BeginTimeVerifyFail', 'BeginTime must lie within the last 7 days.');
  }
  if (p.EndTime !== undefined && p.EndTime < 0)
    return error('InvalidParameterValue.EndTimeVerifyFail', 'EndTime is invalid.');
  if (p.EndTime !== undefined && p.EndTime < p.BeginTime) {
    return error('InvalidParameterValue.InvalidStartTime', 'BeginTime is later than EndTime.');
  }
  return p;
}

export function isError(value: PullParams | TwinError): value is TwinError {
  return 'code' in value;
}
