import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidInput } from '#lib/errors.ts';
import type { Cursor } from './cursor.ts';
import type { Query } from './query.ts';

/**
 * The nextToken of a paged lookup: the query it continues (number and resolved window) and the place
 * after the last status returned, with when it was issued, signed with an HMAC. It is opaque to callers
 * and grants nothing they could not ask for; the MAC makes a forged or damaged token a 400, not a guess.
 */
export interface PageToken {
  phoneNumber: string;
  beginTime: number;
  endTime: number;
  after: Cursor;
  issuedAt: number;
}

/** A token is good for an hour: long enough to page through any window, short enough that a stale one is refused. */
export const TOKEN_TTL_SECONDS = 3600;
/** Tokens are a few hundred characters; anything far longer is not one. */
export const MAX_TOKEN_LENGTH = 512;

/** The key tokens are signed with: one per deployment (its app and lake), so a token from another is foreign. */
export function pageTokenKey(...parts: string[]): Buffer {
  return createHash('sha256')
    .update(['sms-status/page-token/v1', ...parts].join('\n'))
    .digest();
}

function mac(payload: string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

export function encodeToken(token: PageToken, key: Buffer): string {
  const { phoneNumber, beginTime, endTime, after, issuedAt } = token;
  const payload = Buffer.from(
    JSON.stringify([phoneNumber, beginTime, endTime, after.time, after.serialNo, issuedAt]),
  ).toString('base64url');
  return `${payload}.${mac(payload, key).toString('base64url')}`;
}

function refused(why: string): InvalidInput {
  return new InvalidInput(`nextToken ${why}: send the request again without it to start over`, {
    field: 'nextToken',
    code: 'InvalidParameterValue.NextToken',
  });
}

/** A token as a caller sent it, checked: its MAC, its shape, and its age. */
export function decodeToken(text: unknown, key: Buffer, nowSeconds: number): PageToken {
  if (typeof text !== 'string' || text.length > MAX_TOKEN_LENGTH) throw refused('is not a token this API issued');
  const [payload = '', signature = ''] = text.split('.');
  const expected = mac(payload, key);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw refused('is not a token this API issued');
  const token = parsePayload(payload);
  if (nowSeconds - token.issuedAt > TOKEN_TTL_SECONDS || token.issuedAt > nowSeconds + 300)
    throw refused('has expired');
  return token;
}

function parsePayload(payload: string): PageToken {
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw refused('is not a token this API issued');
  }
  if (!Array.isArray(fields)) throw refused('is not a token this API issued');
  const [phoneNumber, beginTime, endTime, time, serialNo, issuedAt] = fields as unknown[];
  const whole = [beginTime, endTime, time, issuedAt].every(Number.isSafeInteger);
  if (typeof phoneNumber !== 'string' || typeof serialNo !== 'string' || !whole)
    throw refused('is not a token this API issued');
  return { phoneNumber, beginTime, endTime, after: { time, serialNo }, issuedAt } as PageToken;
}

/** The token continues exactly this query: the same number and window, asking for every record. */
export function checkSameQuery(token: PageToken, query: Query): void {
  const same =
    token.phoneNumber === query.phoneNumber && token.beginTime === query.beginTime && token.endTime === query.endTime;
  if (!same || !query.all || query.serialNo !== undefined)
    throw refused('belongs to another query: keep the number, window and all=true it was issued for');
  if (token.after.time < token.beginTime || token.after.time > token.endTime)
    throw refused('is not a token this API issued');
}
