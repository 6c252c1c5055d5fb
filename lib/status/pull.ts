import type { TencentClient } from '#lib/tencent/client.ts';
import { MAX_LIMIT } from '#lib/tencent/types.ts';
import { byReceiveTime, fromTencent, type StatusRecord } from './record.ts';

export interface PullQuery {
  phoneNumber: string;
  beginTime: number;
  endTime: number;
  limit: number;
  all: boolean;
}

export interface PullOptions {
  /** Hard cap on requests for one pull; past it the answer is marked incomplete. */
  maxRequests: number;
  /** Windows in flight at once (the pacer still decides when each is sent). */
  concurrency: number;
}

export interface PullResult {
  records: StatusRecord[];
  /** False when records may be missing: a page cut by `limit`, a saturated second, or the request cap. */
  complete: boolean;
  requestIds: string[];
  requests: number;
  /** The parts of the window that could not be proven complete (saturated seconds, or left at the request cap). */
  incompleteWindows: Window[];
  /** Set when requests were moved up to Tencent's 7-day edge: [beginTime, agedUntil) could not be pulled. */
  agedUntil?: number;
}

export interface Window {
  beginTime: number;
  endTime: number;
}

export const DEFAULT_PULL_OPTIONS: PullOptions = { maxRequests: 1000, concurrency: 4 };

/**
 * Tencent has no paging (Offset is fixed at 0) and no documented order, so a full page means "maybe
 * more": split the window in halves and pull each. Windows are whole seconds, both ends inclusive; a
 * full page for a single second cannot be split and is reported as incomplete. A window is split only
 * when it holds at least MAX_LIMIT records, so a pull of N records over W seconds sends at most
 * 1 + 2·⌈N/100⌉·⌈log2 W⌉ requests, and never more than `maxRequests`.
 */
export async function pull(client: TencentClient, query: PullQuery, options = DEFAULT_PULL_OPTIONS): Promise<PullResult> {
  if (!query.all) {
    const page = await client.pull(query);
    const records = dedupe(page.statuses.map(fromTencent));
    const complete = page.statuses.length < query.limit;
    const incompleteWindows = complete ? [] : [{ beginTime: query.beginTime, endTime: query.endTime }];
    return { records, complete, requestIds: [page.requestId], requests: 1, incompleteWindows, agedUntil: page.servedFrom };
  }
  const seen = new Map<string, StatusRecord>();
  const requestIds: string[] = [];
  const incompleteWindows: Window[] = [];
  let agedUntil: number | undefined;

  async function visit(window: Window): Promise<Window[]> {
    const page = await client.pull({ ...window, phoneNumber: query.phoneNumber, limit: MAX_LIMIT });
    if (page.requestId) requestIds.push(page.requestId);
    for (const status of page.statuses) {
      const record = fromTencent(status);
      if (!seen.has(record.serialNo)) seen.set(record.serialNo, record);
    }
    // What aged past Tencent's edge before it was asked for is gone; split only what was served.
    const from = page.servedFrom ?? window.beginTime;
    if (from > window.beginTime) agedUntil = Math.max(agedUntil ?? from, from);
    if (page.statuses.length < MAX_LIMIT) return [];
    if (window.endTime <= from) {
      incompleteWindows.push({ beginTime: from, endTime: window.endTime });
      return [];
    }
    return halves({ beginTime: from, endTime: window.endTime });
  }

  const queue = [{ beginTime: query.beginTime, endTime: query.endTime }];
  const { requests } = await drain(queue, visit, options);
  incompleteWindows.push(...queue);
  return {
    records: [...seen.values()].sort(byReceiveTime),
    complete: incompleteWindows.length === 0,
    requestIds,
    requests,
    incompleteWindows: incompleteWindows.sort((a, b) => a.beginTime - b.beginTime),
    agedUntil,
  };
}

export function halves({ beginTime, endTime }: Window): Window[] {
  const middle = beginTime + Math.floor((endTime - beginTime) / 2);
  return [
    { beginTime, endTime: middle },
    { beginTime: middle + 1, endTime },
  ];
}

function dedupe(records: StatusRecord[]): StatusRecord[] {
  return [...new Map(records.map((record) => [record.serialNo, record])).values()].sort(byReceiveTime);
}

/** Runs `visit` over a growing queue of windows with bounded concurrency and a request cap. */
async function drain(
  queue: Window[],
  visit: (window: Window) => Promise<Window[]>,
  { maxRequests, concurrency }: PullOptions,
): Promise<{ requests: number; exhausted: boolean }> {
  let requests = 0;
  const active = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  while (!failure && (queue.length > 0 || active.size > 0)) {
    while (queue.length > 0 && active.size < concurrency && requests < maxRequests) {
      const window = queue.shift() as Window;
      requests += 1;
      const task: Promise<void> = visit(window)
        .then(
          (more) => {
            queue.push(...more);
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => active.delete(task));
      active.add(task);
    }
    if (active.size === 0) break;
    await Promise.race(active);
  }
  if (failure) {
    await Promise.allSettled(active);
    throw failure.error;
  }
  return { requests, exhausted: queue.length > 0 };
}
