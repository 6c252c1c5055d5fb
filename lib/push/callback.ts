import { InvalidInput } from '#lib/errors.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { isReceiptTime } from '#lib/receipt.ts';
import { parsePhoneNumber } from '#lib/phone-number.ts';
import { uniqueBySerial } from '#lib/lake/versions.ts';

/**
 * Tencent's status callback (push): a JSON array of receipts, every field a string
 * (../shared/reference/tencent-cloud-notes.md). This turns one body into the lake's records, or throws
 * InvalidInput naming the field at fault (`[3].user_receive_time`); nothing of a bad batch is kept.
 */

/** Receipts in one callback. 1 MiB of body holds about 5,800 of them, so HTTP bodies never reach it. */
export const MAX_BATCH = 10_000;
/** The largest body read; a larger one is refused before it is parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Longest sid (the pull API's SerialNo is far shorter): it keys the receipt, so a longer one is refused. */
export const MAX_SID_LENGTH = 64;
/** Longest errmsg kept: a longer one is cut to it, never a reason to refuse the batch. */
export const MAX_TEXT_LENGTH = 512;

export interface CallbackParseSettings {
  sdkAppId: string;
  /** TENCENT_CALLBACK_UTC_OFFSET in minutes east of UTC: +08:00 is 480. */
  utcOffsetMinutes: number;
}

/** One receipt as Tencent posts it. */
export interface TencentReceipt {
  user_receive_time: string;
  nationcode: string;
  mobile: string;
  report_status: string;
  errmsg?: string;
  description?: string;
  sid: string;
}

/** What a receipt cannot do without: its key, its number, its time and its status. */
const REQUIRED_FIELDS = ['user_receive_time', 'nationcode', 'mobile', 'report_status', 'sid'] as const;
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const NATION_CODE = /^[1-9]\d{0,3}$/;
const MOBILE = /^\d{4,14}$/;

function invalid(field: string, rule: string, code = 'InvalidParameterValue'): InvalidInput {
  return new InvalidInput(`${field} ${rule}`, { field, code });
}

/** The body's bytes → records. The size is checked before anything is parsed. */
export function parseCallbackBody(body: string | Buffer, settings: CallbackParseSettings): ExportRecord[] {
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (size > MAX_BODY_BYTES)
    throw invalid('body', `is larger than ${MAX_BODY_BYTES} bytes`, 'RequestSizeLimitExceeded');
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    throw invalid('body', 'is not JSON: expected an array of receipts');
  }
  return parseBatch(value, settings);
}

/**
 * A parsed body → records, sorted by receive time. Receipts repeating a sid are merged into one
 * (`laterOf`: the batch's content decides which, never its order).
 * An empty array is a valid batch with nothing in it.
 */
export function parseBatch(value: unknown, settings: CallbackParseSettings): ExportRecord[] {
  if (!Array.isArray(value)) throw invalid('body', 'must be a JSON array of receipts');
  if (value.length > MAX_BATCH)
    throw invalid('body', `holds more than ${MAX_BATCH} receipts`, 'RequestSizeLimitExceeded');
  return uniqueBySerial(value.map((item: unknown, index) => parseReceipt(item, index, settings)));
}

function parseReceipt(item: unknown, index: number, settings: CallbackParseSettings): ExportRecord {
  const at = `[${index}]`;
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw invalid(at, 'must be an object with the receipt fields');
  const raw = item as Record<string, unknown>;
  for (const name of REQUIRED_FIELDS) {
    if (typeof raw[name] !== 'string') throw invalid(`${at}.${name}`, 'is required and must be a string');
  }
  const receipt = raw as unknown as TencentReceipt;
  if (receipt.sid === '' || receipt.sid.length > MAX_SID_LENGTH)
    throw invalid(`${at}.sid`, `must be 1 to ${MAX_SID_LENGTH} characters`);
  if (receipt.report_status !== 'SUCCESS' && receipt.report_status !== 'FAIL')
    throw invalid(`${at}.report_status`, 'must be SUCCESS or FAIL');
  const { countryCode, subscriberNumber, phoneNumber } = parseNumber(receipt, at);
  return {
    serialNo: receipt.sid,
    phoneNumber,
    countryCode,
    subscriberNumber,
    reportStatus: receipt.report_status,
    description: optionalText(raw.errmsg, `${at}.errmsg`),
    userReceiveTime: parseLocalTime(receipt.user_receive_time, settings.utcOffsetMinutes, `${at}.user_receive_time`),
    sdkAppId: settings.sdkAppId,
  };
}

/**
 * Optional text (errmsg): empty when absent, cut to MAX_TEXT_LENGTH when long (at a character's edge,
 * never inside a surrogate pair). Tencent's human `description` is not kept, so it is not read at all.
 */
function optionalText(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.length <= MAX_TEXT_LENGTH) return value;
  const end = /[\uD800-\uDBFF]/.test(value.charAt(MAX_TEXT_LENGTH - 1)) ? MAX_TEXT_LENGTH - 1 : MAX_TEXT_LENGTH;
  return value.slice(0, end);
}

/** nationcode + mobile → E.164, checked as lookups check a number. */
function parseNumber(
  receipt: TencentReceipt,
  at: string,
): { countryCode: string; subscriberNumber: string; phoneNumber: string } {
  if (!NATION_CODE.test(receipt.nationcode))
    throw invalid(
      `${at}.nationcode`,
      'must be a country calling code: 1 to 4 digits, not starting with 0',
      'InvalidParameterValue.IncorrectPhoneNumber',
    );
  if (!MOBILE.test(receipt.mobile))
    throw invalid(
      `${at}.mobile`,
      'must be the national number: 4 to 14 digits',
      'InvalidParameterValue.IncorrectPhoneNumber',
    );
  const phoneNumber = parsePhoneNumber(`+${receipt.nationcode}${receipt.mobile}`, `${at}.mobile`);
  return { countryCode: receipt.nationcode, subscriberNumber: receipt.mobile, phoneNumber };
}

/**
 * "YYYY-MM-DD hh:mm:ss", a wall-clock time at `offsetMinutes` east of UTC → unix seconds. Dates that do
 * not exist (02-30, 25:00, 23:59:60) are refused rather than rolled over.
 */
export function parseLocalTime(text: string, offsetMinutes: number, field = 'user_receive_time'): number {
  const match = LOCAL_TIME.exec(text);
  if (!match) throw invalid(field, "must be a time 'YYYY-MM-DD hh:mm:ss'");
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(wall);
  const exists =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute &&
    back.getUTCSeconds() === second;
  if (!exists) throw invalid(field, 'is not a date and time that exists');
  const seconds = wall / 1000 - offsetMinutes * 60;
  if (!isReceiptTime(seconds)) throw invalid(field, 'must lie between 2000-01-01 and 2100-01-01');
  return seconds;
}
