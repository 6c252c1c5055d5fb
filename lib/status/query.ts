import { rejectUnknownFields } from '#lib/fields.ts';
import { InvalidInput } from '#lib/errors.ts';
import { retentionEdge } from '#lib/tencent/retention.ts';
import { MAX_LIMIT, MAX_LOOKBACK_SECONDS } from '#lib/tencent/types.ts';
import { SEAM_SECONDS } from './history.ts';
import { MAX_TOKEN_LENGTH, TOKEN_TTL_SECONDS } from './page-token.ts';
import { parsePhoneNumber } from '#lib/phone-number.ts';
import { parseTime } from '#lib/time.ts';

/** A lookup as callers send it: strings from a query string, numbers and booleans from JSON. */
export interface RawQuery {
  phoneNumber?: unknown;
  beginTime?: unknown;
  endTime?: unknown;
  limit?: unknown;
  all?: unknown;
  serialNo?: unknown;
  /** A later page of the same lookup (lookup-page.ts reads it). */
  nextToken?: unknown;
}

export interface Query {
  phoneNumber: string;
  beginTime: number;
  endTime: number;
  limit: number;
  all: boolean;
  /** Only the receipt with this SerialNo (set only when asked for). */
  serialNo?: string;
}

/** How far back a lookup may reach: Tencent's 7 days, or with a lake configured, its retention. */
export interface QueryOptions {
  lakeRetentionDays?: number;
  /** A later page (nextToken): the window is the one the token was issued for, up to its age ago. */
  continuing?: boolean;
}

/** How far back a window may start, and why no further. */
export interface Reach {
  seconds: number;
  why: string;
}

const TENCENT_REACH: Reach = { seconds: MAX_LOOKBACK_SECONDS, why: '7 days back: Tencent keeps receipts for 7 days' };

/** A lookup's reach: the lake's retention, or Tencent's 7 days when no lake is configured. */
export function lookupReach({ lakeRetentionDays }: QueryOptions = {}): Reach {
  if (lakeRetentionDays === undefined) return { ...TENCENT_REACH, why: `${TENCENT_REACH.why} (no lake configured)` };
  return {
    seconds: lakeRetentionDays * 86400,
    why: `${lakeRetentionDays} days back: the lake keeps receipts for ${lakeRetentionDays} days (EXPORT_RETENTION_DAYS)`,
  };
}

const FIELDS = new Set(['phoneNumber', 'beginTime', 'endTime', 'limit', 'all', 'serialNo', 'nextToken']);
const SERIAL_NO = /^[\w:.-]{1,64}$/;
const DEFAULT_SPAN_SECONDS = 24 * 3600;
/** Default windows stop short of the 7-day edge so clock skew with Tencent cannot push them past it. */
const LOOKBACK_MARGIN_SECONDS = 300;
const MAX_VALUE_LENGTH = 64;
/**
 * "The last 7 days" (`date -d '-7 days'`) is already past Tencent's 7 days when it is answered: a
 * beginTime at most this much older than where a lookup's Tencent part starts is moved up to there.
 */
export const BEGIN_GRACE_SECONDS = 600;
/** The lookup reads its clock again after parsing: a second or two later, its Tencent part starts later too. */
const CLOCK_SLACK_SECONDS = 5;

/** The oldest beginTime Tencent still serves, less a safety margin, for windows we choose ourselves. */
export function oldestDefaultBegin(nowSeconds: number): number {
  return nowSeconds - MAX_LOOKBACK_SECONDS + LOOKBACK_MARGIN_SECONDS;
}

/**
 * Where a lookup's Tencent part starts (lib/status/history.ts: its edge plus the seam, a few seconds
 * on). A given beginTime from BEGIN_GRACE_SECONDS before Tencent's 7 days up to there is moved to it,
 * so "the last 7 days" is Tencent's whole answer (`complete` as Tencent says), not a sliver of minutes
 * from the lake that holds no receipt of the number (`complete: false`), nor a 400 without a lake. The
 * answer's beginTime is the one used. A window that ends before there is left as it is.
 */
export function graceBegin(beginTime: number, endTime: number, nowSeconds: number): number {
  const tencentFrom = retentionEdge(nowSeconds * 1000) + SEAM_SECONDS + CLOCK_SLACK_SECONDS;
  const graced = beginTime >= nowSeconds - MAX_LOOKBACK_SECONDS - BEGIN_GRACE_SECONDS && beginTime < tencentFrom;
  return graced && endTime >= tencentFrom ? tencentFrom : beginTime;
}

/** Validates a lookup before any request is sent; every error names the field and the rule. */
export function parseQuery(raw: RawQuery, nowSeconds: number, options: QueryOptions = {}): Query {
  checkShape(raw);
  const phoneNumber = parsePhoneNumber(raw.phoneNumber);
  // A later page keeps the window its token was issued for: no grace moves it, and it may have aged since.
  const grace = (begin: number, end: number): number =>
    options.continuing ? begin : graceBegin(begin, end, nowSeconds);
  const reach = lookupReach(options);
  const { beginTime, endTime } = parseWindow(
    raw,
    nowSeconds,
    DEFAULT_SPAN_SECONDS,
    options.continuing ? { ...reach, seconds: reach.seconds + TOKEN_TTL_SECONDS } : reach,
    grace,
  );
  const serialNo = parseSerialNo(raw.serialNo);
  return {
    phoneNumber,
    beginTime,
    endTime,
    limit: parseLimit(raw.limit),
    all: parseAll(raw.all),
    ...(serialNo !== undefined && { serialNo }),
  };
}

/**
 * beginTime/endTime as given, or defaults: endTime now, beginTime `defaultSpan` before endTime (kept
 * inside Tencent's 7 days, or the `reach` given). A given beginTime passes through `grace` (lookups:
 * graceBegin). Checked against the reach and each other.
 */
export function parseWindow(
  raw: { beginTime?: unknown; endTime?: unknown },
  nowSeconds: number,
  defaultSpan: number,
  reach: Reach = TENCENT_REACH,
  grace: (beginTime: number, endTime: number) => number = (beginTime) => beginTime,
): { beginTime: number; endTime: number } {
  const endTime = present(raw.endTime)
    ? parseTime(raw.endTime, 'endTime', 'InvalidParameterValue.EndTimeVerifyFail')
    : nowSeconds;
  const beginTime = present(raw.beginTime)
    ? grace(parseTime(raw.beginTime, 'beginTime', 'InvalidParameterValue.BeginTimeVerifyFail'), endTime)
    : Math.min(endTime, Math.max(endTime - defaultSpan, oldestBegin(nowSeconds, reach)));
  checkWindow(beginTime, endTime, nowSeconds, reach);
  return { beginTime, endTime };
}

function checkShape(raw: RawQuery): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidInput('the lookup must be an object with phoneNumber, beginTime, endTime, limit, all, serialNo', {
      field: 'query',
    });
  }
  rejectUnknownFields(raw, FIELDS);
  for (const [field, value] of Object.entries(raw)) {
    const max = field === 'nextToken' ? MAX_TOKEN_LENGTH : MAX_VALUE_LENGTH;
    if (typeof value === 'string' && value.length > max)
      throw new InvalidInput(`${field} is longer than ${max} characters`, { field });
  }
}

/** Within Tencent's reach, a default window keeps the safety margin; the lake's has no edge to fear. */
function oldestBegin(nowSeconds: number, reach: Reach): number {
  return reach.seconds > MAX_LOOKBACK_SECONDS ? nowSeconds - reach.seconds : oldestDefaultBegin(nowSeconds);
}

export function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function checkWindow(beginTime: number, endTime: number, nowSeconds: number, reach: Reach): void {
  if (beginTime > nowSeconds) {
    throw new InvalidInput('beginTime must not be in the future', {
      field: 'beginTime',
      code: 'InvalidParameterValue.BeginTimeVerifyFail',
    });
  }
  // endTime first: a beginTime left out defaults to it, and the caller should hear of the field they gave.
  if (endTime < nowSeconds - reach.seconds) {
    throw new InvalidInput(`endTime must be no more than ${reach.why}`, {
      field: 'endTime',
      code: 'InvalidParameterValue.EndTimeVerifyFail',
    });
  }
  if (beginTime < nowSeconds - reach.seconds) {
    throw new InvalidInput(`beginTime must be no more than ${reach.why}`, {
      field: 'beginTime',
      code: 'InvalidParameterValue.BeginTimeVerifyFail',
    });
  }
  if (endTime < beginTime) {
    throw new InvalidInput('endTime must not be before beginTime', {
      field: 'endTime',
      code: 'InvalidParameterValue.InvalidStartTime',
    });
  }
}

function parseLimit(value: unknown): number {
  if (!present(value)) return MAX_LIMIT;
  const limit = typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : value;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidInput(`limit must be a whole number from 1 to ${MAX_LIMIT}`, {
      field: 'limit',
      code: 'InvalidParameterValue.LimitVerifyFail',
    });
  }
  return limit;
}

function parseSerialNo(value: unknown): string | undefined {
  if (!present(value)) return undefined;
  if (typeof value !== 'string' || !SERIAL_NO.test(value)) {
    throw new InvalidInput('serialNo must be a SerialNo as SendSms returned it: 1 to 64 letters, digits, and : . _ -', {
      field: 'serialNo',
    });
  }
  return value;
}

function parseAll(value: unknown): boolean {
  if (!present(value)) return false;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw new InvalidInput('all must be true or false', { field: 'all' });
}
