import { RateLimited, UpstreamUnavailable, type SmsStatusError } from '#lib/errors.ts';
import { laterOf } from '#lib/lake/versions.ts';
import { BUDGET_EXCEEDED } from '#lib/pace/bucket.ts';
import type { TencentClient } from '#lib/tencent/client.ts';
import { retentionEdge } from '#lib/tencent/retention.ts';
import type { CollectOptions } from './collect.ts';
import { cursorAt, isAfter, startOfSecond, type Cursor } from './cursor.ts';
import { daysOf, readLake, type Lake, type LakePart, type Window } from './lake-part.ts';
import { pullTencent, type LookupResult, type Source } from './lookup.ts';
import type { Query } from './query.ts';
import { byReceiveTime, type StatusRecord } from '#lib/receipt.ts';

/** Most lake records one lookup reads when no page limit is given (a few MB of JSON). */
export const MAX_LAKE_RECORDS = 20_000;
/**
 * Tencent's part starts this long inside its edge: a request sent later in the lookup (the pacer's
 * queue, a retry, a split window) is then never moved up by the retention clamp. The lake answers it.
 */
export const SEAM_SECONDS = 60;

export interface HistoryOptions {
  collect?: CollectOptions;
  /** ms since epoch: Tencent's edge is judged from it. */
  now?: () => number;
  /** Only records after this place: a later page of the same lookup. */
  after?: Cursor;
  /** Most lake records read for each part (default: MAX_LAKE_RECORDS with all, else the query's limit). */
  lakeCap?: number;
  /**
   * Tencent down, lake up (HTTP and CLI lookups): while this answers true, a Tencent part that cannot be
   * had is answered from the lake, its source carrying the error. Without it the error is thrown.
   */
  degrade?: () => boolean;
}

/** The answer, and where its records stop being known whole: a page must not reach past it. */
export interface HistoryAnswer {
  result: LookupResult;
  reachedUntil?: Cursor;
}

/** One part of the window, answered: its records, its sources, and where a page over it must stop. */
interface Answered {
  records: StatusRecord[];
  sources: Source[];
  requestIds: string[];
  reachedUntil?: Cursor;
}

/**
 * A lookup over the whole retention: the part of the window older than Tencent's edge (the one pulls
 * are clamped to, `retentionEdge`) comes from the lake, the rest from Tencent. Records are one per
 * serialNo by the lake's merge rule, sorted by receive time. Without a lake, or for a window inside
 * Tencent's reach, Tencent answers the whole window.
 */
export async function history(
  client: TencentClient,
  lake: Lake | undefined,
  query: Query,
  options: HistoryOptions = {},
): Promise<HistoryAnswer> {
  const nowMs = (options.now ?? Date.now)();
  const seam = retentionEdge(nowMs) + SEAM_SECONDS;
  // A later page without a lake: what aged past Tencent's edge since the first page cannot be asked for.
  const aged = !lake && options.after !== undefined ? retentionEdge(nowMs) : Number.NEGATIVE_INFINITY;
  const window: Window = {
    beginTime: Math.max(query.beginTime, options.after?.time ?? query.beginTime, aged),
    endTime: query.endTime,
  };
  const older =
    lake && window.beginTime < seam
      ? { beginTime: window.beginTime, endTime: Math.min(window.endTime, seam - 1) }
      : undefined;
  const recent = !older ? window : window.endTime >= seam ? { beginTime: seam, endTime: window.endTime } : undefined;
  const cap = options.lakeCap ?? (query.all || query.serialNo !== undefined ? MAX_LAKE_RECORDS : query.limit);
  // Refused past MAX_LAKE_DAYS before anything is read or sent.
  const days = older && daysOf(older);
  const [fromLake, fromTencent] = await Promise.all([
    older && lake && days
      ? readLake(lake, query, { window: older, days, cap, after: options.after }).then((part) =>
          lakeAnswer(part, older),
        )
      : undefined,
    recent ? tencentOrLake(client, lake, query, recent, { ...options, lakeCap: cap }) : undefined,
  ]);
  const answer = combined(
    query,
    [fromLake, fromTencent].filter((part): part is Answered => part !== undefined),
    options.after,
  );
  // Receipts that aged away between the pages were never answered: this page cannot say it is whole.
  if (options.after && aged > options.after.time) answer.result.complete = false;
  return answer;
}

function lakeAnswer(part: LakePart, window: Window): Answered {
  const last = part.records.at(-1);
  return {
    records: part.records,
    sources: [{ source: 'lake', ...window, complete: part.complete }],
    requestIds: [],
    ...(part.cut && last && { reachedUntil: cursorAt(last) }),
  };
}

/** Tencent's part; when Tencent cannot answer and the lake may stand in, the lake's, beside Tencent's error. */
async function tencentOrLake(
  client: TencentClient,
  lake: Lake | undefined,
  query: Query,
  window: Window,
  options: HistoryOptions,
): Promise<Answered> {
  try {
    const part = await pullTencent(client, { ...query, ...window }, options.collect);
    const unreached = part.unreachedFrom;
    return {
      records: part.records,
      sources: [part.source],
      requestIds: part.requestIds,
      ...(unreached !== undefined && { reachedUntil: startOfSecond(unreached) }),
    };
  } catch (error) {
    if (!lake || !isOutage(error) || !options.degrade?.()) throw error;
    const ask = { window, days: daysOf(window), cap: options.lakeCap ?? MAX_LAKE_RECORDS, after: options.after };
    const standIn = lakeAnswer(await readLake(lake, query, ask), window);
    const down: Source = {
      source: 'tencent',
      ...window,
      complete: false,
      error: { code: error.code, message: error.detail },
    };
    return { ...standIn, sources: [down, ...standIn.sources], requestIds: error.requestId ? [error.requestId] : [] };
  }
}

/** Tencent could not answer (down, failing, timing out, throttling past the retries); not our own budget. */
function isOutage(error: unknown): error is SmsStatusError {
  return error instanceof UpstreamUnavailable || (error instanceof RateLimited && error.code !== BUDGET_EXCEEDED);
}

/** The parts as one answer: one version per serialNo, sorted, after the cursor; complete only if every part is. */
function combined(query: Query, parts: Answered[], after: Cursor | undefined): HistoryAnswer {
  const bySerial = new Map<string, StatusRecord>();
  for (const record of parts.flatMap((part) => part.records)) {
    const other = bySerial.get(record.serialNo);
    bySerial.set(record.serialNo, other ? laterOf(other, record) : record);
  }
  const statuses = [...bySerial.values()].filter((record) => !after || isAfter(record, after)).sort(byReceiveTime);
  const sources = parts.flatMap((part) => part.sources);
  const reachedUntil = parts.find((part) => part.reachedUntil)?.reachedUntil;
  const result: LookupResult = {
    phoneNumber: query.phoneNumber,
    beginTime: query.beginTime,
    endTime: query.endTime,
    complete: sources.every((source) => source.complete),
    statuses,
    requestIds: parts.flatMap((part) => part.requestIds),
    sources,
  };
  return { result, ...(reachedUntil && { reachedUntil }) };
}
