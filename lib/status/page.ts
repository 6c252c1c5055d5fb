import { cursorAt, isAfter, type Cursor } from './cursor.ts';
import type { HistoryAnswer } from './history.ts';
import type { LookupResult } from './lookup.ts';
import type { StatusRecord } from '#lib/receipt.ts';

/** How much one answer may hold: Lambda answers at most 6 MB, so bodies stay under 5 MiB, less headroom. */
export interface PageLimits {
  maxRecords: number;
  maxBytes: number;
}

export const MAX_BODY_BYTES = 5 * 1024 * 1024;
/** Room the envelope keeps for a nextToken, whatever its length (page-token.ts keeps tokens far shorter). */
const TOKEN_ROOM = 1024;

export interface Page {
  result: LookupResult;
  /** Where the next page continues: set when the window holds more than this answer. */
  next?: Cursor;
}

/**
 * The oldest part of an answer that fits the limits and that is known whole (up to `reachedUntil`); the
 * next page continues right after it. When nothing is known whole past the cursor (a Tencent window
 * that could not even begin to be proven), what was found is answered, incomplete, without a next page.
 */
export function pageOf({ result, reachedUntil }: HistoryAnswer, limits: PageLimits): Page {
  const known = reachedUntil ? result.statuses.filter((record) => !isAfter(record, reachedUntil)) : result.statuses;
  const stuck = known.length === 0 && result.statuses.length > 0;
  const eligible = stuck ? result.statuses : known;
  const statuses = fitting(result, eligible, limits);
  // A record is far smaller than a page, so a cut page holds at least one: the next one starts after it.
  const next =
    statuses.length < eligible.length ? cursorAt(statuses.at(-1) as StatusRecord) : stuck ? undefined : reachedUntil;
  const complete = result.complete && next === undefined;
  return { result: { ...result, statuses, complete }, ...(next && { next }) };
}

/** As many of `records` as fit the limits, counting the body's bytes as JSON will write them. */
function fitting(result: LookupResult, records: StatusRecord[], limits: PageLimits): StatusRecord[] {
  let bytes = Buffer.byteLength(JSON.stringify({ ...result, statuses: [] })) + TOKEN_ROOM;
  let count = 0;
  for (const record of records) {
    bytes += Buffer.byteLength(JSON.stringify(record)) + 1;
    if (count >= limits.maxRecords || bytes > limits.maxBytes) break;
    count += 1;
  }
  return records.slice(0, count);
}
