import { rejectUnknownFields } from '#lib/fields.ts';
import { InvalidInput } from '#lib/errors.ts';
import { MAX_LIMIT, MAX_LOOKBACK_SECONDS } from '#lib/tencent/types.ts';
import { parseTime } from './time.ts';

/** A lookup as callers send it: strings from a query string, numbers and booleans from JSON. */
export interface RawQuery {
  phoneNumber?: unknown;
  beginTime?: unknown;
  endTime?: unknown;
  limit?: unknown;
  all?: unknown;
}

export interface Query {
  phoneNumber: string;
  beginTime: number;
  endTime: number;
  limit: number;
  all: boolean;
}

const FIELDS = new Set(['phoneNumber', 'beginTime', 'endTime', 'limit', 'all']);
const E164 = /^\+[1-9]\d{6,14}$/;
const DEFAULT_SPAN_SECONDS = 24 * 3600;
/** Default windows stop short of the 7-day edge so clock skew with Tencent cannot push them past it. */
const LOOKBACK_MARGIN_SECONDS = 300;
const MAX_VALUE_LENGTH = 64;

export function parsePhoneNumber(value: unknown, field = 'phoneNumber'): string {
  if (typeof value !== 'string' || !E164.test(value)) {
    throw new InvalidInput(
      `${field} must be an E.164 number: '+', country code and subscriber number, 8 to 16 characters (e.g. +8613711112222)`,
      { field, code: 'InvalidParameterValue.IncorrectPhoneNumber' },
    );
  }
  return value;
}

/** The oldest beginTime Tencent still serves, less a safety margin, for windows we choose ourselves. */
export function oldestDefaultBegin(nowSeconds: number): number {
  return nowSeconds - MAX_LOOKBACK_SECONDS + LOOKBACK_MARGIN_SECONDS;
}

/** Validates a lookup before any request is sent; every error names the field and the rule. */
export function parseQuery(raw: RawQuery, nowSeconds: number): Query {
  checkShape(raw);
  const phoneNumber = parsePhoneNumber(raw.phoneNumber);
  const { beginTime, endTime } = parseWindow(raw, nowSeconds, DEFAULT_SPAN_SECONDS);
  return { phoneNumber, beginTime, endTime, limit: parseLimit(raw.limit), all: parseAll(raw.all) };
}

/**
 * beginTime/endTime as given, or defaults: endTime now, beginTime `defaultSpan` before endTime (kept
 * inside Tencent's 7 days). Checked against the 7-day limit and each other.
 */
export function parseWindow(
  raw: { beginTime?: unknown; endTime?: unknown },
  nowSeconds: number,
  defaultSpan: number,
): { beginTime: number; endTime: number } {
  const endTime = present(raw.endTime)
    ? parseTime(raw.endTime, 'endTime', 'InvalidParameterValue.EndTimeVerifyFail')
    : nowSeconds;
  const beginTime = present(raw.beginTime)
    ? parseTime(raw.beginTime, 'beginTime', 'InvalidParameterValue.BeginTimeVerifyFail')
    : Math.min(endTime, Math.max(endTime - defaultSpan, oldestDefaultBegin(nowSeconds)));
  checkWindow(beginTime, endTime, nowSeconds);
  return { beginTime, endTime };
}

function checkShape(raw: RawQuery): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidInput('the lookup must be an object with phoneNumber, beginTime, endTime, limit, all', {
      field: 'query',
    });
  }
  rejectUnknownFields(raw, FIELDS);
  for (const [field, value] of Object.entries(raw)) {
    if (typeof value === 'string' && value.length > MAX_VALUE_LENGTH) {
      throw new InvalidInput(`${field} is longer than ${MAX_VALUE_LENGTH} characters`, { field });
    }
  }
}

export function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function checkWindow(beginTime: number, endTime: number, nowSeconds: number): void {
  if (beginTime > nowSeconds) {
    throw new InvalidInput('beginTime must not be in the future', {
      field: 'beginTime',
      code: 'InvalidParameterValue.BeginTimeVerifyFail',
    });
  }
  if (beginTime < nowSeconds - MAX_LOOKBACK_SECONDS) {
    throw new InvalidInput('beginTime must be no more than 7 days back: Tencent keeps receipts for 7 days', {
      field: 'beginTime',
      code: 'InvalidParameterValue.BeginTimeVerifyFail',
    });
  }
  if (endTime < nowSeconds - MAX_LOOKBACK_SECONDS) {
    throw new InvalidInput('endTime must be within the last 7 days: Tencent keeps receipts for 7 days', {
      field: 'endTime',
      code: 'InvalidParameterValue.EndTimeVerifyFail',
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

function parseAll(value: unknown): boolean {
  if (!present(value)) return false;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw new InvalidInput("all must be true or false", { field: 'all' });
}
