import type { TencentClient } from '#lib/tencent/client.ts';
import { MAX_LIMIT, type PullSmsSendStatus } from '#lib/tencent/types.ts';
import { byReceiveTime, type StatusRecord } from '#lib/receipt.ts';
import { fromTencent } from '#lib/status/from-tencent.ts';
import { adaptiveSplit, nextAsk, continueWalk, type Stretch, type Splitter, type Window } from './split.ts';

export interface CollectQuery {
  phoneNumber: string;
  beginTime: number;
  endTime: number;
  limit: number;
  all: boolean;
}

export interface CollectOptions {
  /** Hard cap on requests for one pull; past it the answer is marked incomplete. */
  maxRequests: number;
  /** Windows in flight at once (the pacer still decides when each is sent). */
  concurrency: number;
  /** No new window is asked for after this time (ms since epoch): the answer is then incomplete. */
  stopAt?: number;
  now?: () => number;
  /** How a full page's window is cut (the adaptive splitter unless a benchmark compares another). */
  split?: Splitter;
  /** No new window is asked for once a record answers this (a lookup by serialNo found its receipt). */
  stopWhen?: (record: StatusRecord) => boolean;
}

export interface CollectResult {
  records: StatusRecord[];
  /** False when records may be missing: a page cut by `limit`, a saturated second, or the request cap. */
  complete: boolean;
  requestIds: string[];
  requests: number;
  /** The stretches of the window that could not be proven complete (saturated seconds, or left at the request cap). */
  incompleteWindows: Window[];
  /** Set when requests were moved up to Tencent's 7-day edge: [beginTime, agedUntil) could not be pulled. */
  agedUntil?: number;
  /**
   * Set when windows were left unasked (the request cap, the deadline, or `stopWhen`): the earliest
   * second not proven. Everything before it is whole but for saturated seconds.
   */
  unreachedFrom?: number;
  /** `stopWhen` was met. */
  stopped?: boolean;
}

export type { Window };

export const DEFAULT_COLLECT_OPTIONS: CollectOptions = { maxRequests: 1000, concurrency: 4 };

/**
 * Tencent has no paging (Offset is fixed at 0) and no documented order, so a full page means "maybe
 * more": the window is cut by what the page shows (see split.ts) and each stretch pulled. Windows are
 * whole seconds, both ends inclusive; a stretch is complete only when its page is not full, and a full
 * page for a single second cannot be cut and is reported incomplete. Records are merged by serialNo
 * (stretches cut at a second may meet there). Never more than `maxRequests`, and no new window after
 * `stopAt`.
 */
export async function collect(
  client: TencentClient,
  query: CollectQuery,
  options = DEFAULT_COLLECT_OPTIONS,
): Promise<CollectResult> {
  if (!query.all) return onePage(client, query);
  const walk = new Walk(client, query, options);
  const queue: Stretch[] = [{ beginTime: query.beginTime, endTime: query.endTime }];
  const { requests } = await drain(
    queue,
    (stretch) => walk.visit(stretch),
    options,
    () => walk.stopped,
  );
  return walk.result(queue, requests);
}

async function onePage(client: TencentClient, query: CollectQuery): Promise<CollectResult> {
  const page = await client.pull(query);
  const records = dedupe(within(page.statuses, query).map(fromTencent));
  const complete = page.statuses.length < query.limit;
  const incompleteWindows = complete ? [] : [{ beginTime: query.beginTime, endTime: query.endTime }];
  return {
    records,
    complete,
    requestIds: [page.requestId],
    requests: 1,
    incompleteWindows,
    agedUntil: page.servedFrom,
  };
}

/** What a walk over the window has gathered so far: stretches are visited concurrently, each adds here. */
class Walk {
  readonly seen = new Map<string, StatusRecord>();
  readonly requestIds: string[] = [];
  readonly incompleteWindows: Window[] = [];
  agedUntil: number | undefined;
  stopped = false;

  private readonly client: TencentClient;
  private readonly query: CollectQuery;
  private readonly options: CollectOptions;

  constructor(client: TencentClient, query: CollectQuery, options: CollectOptions) {
    this.client = client;
    this.query = query;
    this.options = options;
  }

  /** Pulls a stretch (a walked stretch one window at a time, see nextAsk); a full page is cut by `split`. */
  async visit(stretch: Stretch): Promise<Stretch[]> {
    const { ask, rest } = nextAsk(stretch);
    const page = await this.client.pull({
      beginTime: ask.beginTime,
      endTime: ask.endTime,
      phoneNumber: this.query.phoneNumber,
      limit: MAX_LIMIT,
    });
    if (page.requestId) this.requestIds.push(page.requestId);
    const statuses = within(page.statuses, ask);
    this.keep(statuses);
    // What aged past Tencent's edge before it was asked for is gone; cut only what was served.
    const from = page.servedFrom ?? ask.beginTime;
    if (from > ask.beginTime) this.agedUntil = Math.max(this.agedUntil ?? from, from);
    if (page.statuses.length < MAX_LIMIT) return rest ? [continueWalk(rest, ask, statuses)] : [];
    // A clamped BeginTime means all before it is gone, in the rest of a walk too.
    const asked: Window = { beginTime: Math.max(from, ask.beginTime), endTime: ask.endTime };
    const whole: Stretch = { ...stretch, beginTime: Math.max(page.servedFrom ?? stretch.beginTime, stretch.beginTime) };
    if (asked.endTime <= asked.beginTime) {
      this.incompleteWindows.push(asked);
      return rest ? [rest] : [];
    }
    const { next, saturated } = (this.options.split ?? adaptiveSplit)(whole, asked, statuses);
    if (saturated) this.incompleteWindows.push(saturated);
    return next;
  }

  private keep(statuses: PullSmsSendStatus[]): void {
    for (const status of statuses) {
      const record = fromTencent(status);
      if (!this.seen.has(record.serialNo)) this.seen.set(record.serialNo, record);
      if (this.options.stopWhen?.(record)) this.stopped = true;
    }
  }

  /** The walk's answer, the stretches still queued (unreached) counted as incomplete. */
  result(queue: Stretch[], requests: number): CollectResult {
    const incompleteWindows = [
      ...this.incompleteWindows,
      ...queue.map(({ beginTime, endTime }) => ({ beginTime, endTime })),
    ];
    const unreachedFrom = queue.length > 0 ? Math.min(...queue.map((stretch) => stretch.beginTime)) : undefined;
    return {
      records: [...this.seen.values()].sort(byReceiveTime),
      complete: incompleteWindows.length === 0,
      requestIds: this.requestIds,
      requests,
      incompleteWindows: incompleteWindows.sort((a, b) => a.beginTime - b.beginTime),
      agedUntil: this.agedUntil,
      ...(unreachedFrom !== undefined && { unreachedFrom }),
      ...(this.stopped ? { stopped: true } : {}),
    };
  }
}

/**
 * The statuses a window asked for: one Tencent placed outside it (a filter a second off, a broken time)
 * belongs to another window, and would steer the split by a second the window does not hold.
 */
function within(statuses: PullSmsSendStatus[], window: Window): PullSmsSendStatus[] {
  return statuses.filter(
    (s) => (s.UserReceiveTime as number) >= window.beginTime && (s.UserReceiveTime as number) <= window.endTime,
  );
}

function dedupe(records: StatusRecord[]): StatusRecord[] {
  return [...new Map(records.map((record) => [record.serialNo, record])).values()].sort(byReceiveTime);
}

/** Runs `visit` over a growing queue of windows with bounded concurrency and a request cap, until `halted`. */
async function drain(
  queue: Stretch[],
  visit: (stretch: Stretch) => Promise<Stretch[]>,
  { maxRequests, concurrency, stopAt = Number.POSITIVE_INFINITY, now = Date.now }: CollectOptions,
  halted: () => boolean,
): Promise<{ requests: number }> {
  let requests = 0;
  const active = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  while (!failure && (queue.length > 0 || active.size > 0)) {
    while (queue.length > 0 && active.size < concurrency && requests < maxRequests && now() < stopAt && !halted()) {
      const window = queue.shift() as Stretch;
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
  return { requests };
}
