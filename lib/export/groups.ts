import { countedIn, finishBy, type PaceStats } from '#lib/pace/paced.ts';
import pLimit, { type LimitFunction } from 'p-limit';
import { collect } from '#lib/status/collect.ts';
import { isSmsStatusError, RateLimited, UpstreamRejected, UpstreamUnavailable, type SmsStatusError } from '#lib/errors.ts';
import { MAX_LIMIT } from '#lib/tencent/types.ts';
import { coalesce, isStuck } from './pending.ts';
import { objectKey } from '#lib/lake/layout.ts';
import { utcDay } from '#lib/utc-day.ts';
import { addTotals, emptyTotals, newProgress, RunCleared, sample, StateStore, type GroupProgress, type GroupWork } from './state.ts';
import { WriteConflict } from '#lib/lake/store.ts';
import type { ExportDeps, ExportSettings, Failure, PendingWindow, Plan, RunTotals, Window } from './types.ts';
import { mergeInto, type Quarantined } from '#lib/lake/merge.ts';
import type { ExportRecord } from '#lib/lake/line.ts';

/** Day objects of a group merged side by side: S3 round trips overlap while the pulls go on elsewhere. */
const DAY_MERGES = 2;

/** Passes over a group's transient failures (the first in the run, the rest in later invocations). */
export const MAX_CHANCES = 3;

/** One number's work in a run: the run's window if it is on the list, and whatever it still owed. */
interface Item {
  phoneNumber: string;
  windows: Window[];
  /** Runs that already failed some of these windows. */
  runs: number;
  onList: boolean;
}

interface Outcome {
  item: Item;
  records: ExportRecord[];
  owed: PendingWindow[];
  failure?: Failure;
  incomplete: boolean;
  gapSeconds: number;
}

export interface GroupResult {
  progress: GroupProgress;
  /** Out of time: the next invocation resumes the group. */
  stopped: boolean;
  /** Numbers still fail transiently and chances are left: the platform should retry after a pause. */
  retryLater?: SmsStatusError;
}

interface Context {
  deps: ExportDeps;
  settings: ExportSettings;
  plan: Plan;
  state: StateStore;
  /** Bounds the numbers pulled at once, across all groups. */
  limitPulls: LimitFunction;
  /** The run's progress over every group, for the CLI's progress line. */
  seen: { numbersDone: number; records: number };
  /** Frozen work this invocation planned itself, so it need not read it back. */
  works?: Map<number, GroupWork>;
  /** A group failed: the others stop after their current chunk. */
  aborted: boolean;
}

/** The work items of a group, by number: the list's numbers with the run's window, merged with owed windows. */
export function workItems(work: GroupWork, window: Window): Item[] {
  const items = new Map<string, Item>();
  const item = (phoneNumber: string): Item => {
    let found = items.get(phoneNumber);
    if (!found) items.set(phoneNumber, (found = { phoneNumber, windows: [], runs: 0, onList: false }));
    return found;
  };
  for (const number of work.numbers) Object.assign(item(number), { onList: true }).windows.push(window);
  for (const owed of work.pending) {
    const it = item(owed.phoneNumber);
    it.windows.push({ beginTime: owed.beginTime, endTime: owed.endTime });
    it.runs = Math.max(it.runs, owed.runs);
  }
  for (const it of items.values()) it.windows = coalesce(it.windows);
  return [...items.values()].sort((a, b) => (a.phoneNumber < b.phoneNumber ? -1 : 1));
}

/**
 * Exports a group of a run, chunk by chunk: pull the chunk's numbers, merge their records into the
 * group's day objects, save the group's progress. A number that fails is owed, not fatal: its window
 * is kept pending and the rest go on. Credentials or app refused abort the work.
 */
export async function exportGroup(ctx: Context, group: number): Promise<GroupResult> {
  const { settings, plan, state } = ctx;
  const saved = await state.groupProgress(plan, group);
  const progress = saved?.value ?? newProgress(group);
  // Progress lines count what earlier invocations of the run did too.
  ctx.seen.numbersDone += progress.totals.numbersDone;
  ctx.seen.records += progress.totals.records;
  if (progress.done) return { progress, stopped: false };
  let etag = saved?.etag;
  const save = async (): Promise<void> => {
    etag = await state.saveGroupProgress(plan, progress, etag);
  };
  const work = ctx.works?.get(group) ?? (await state.work(plan, group));
  const items = workItems(work, plan.window);
  progress.totals.invocations += 1;
  while (progress.cursor < items.length) {
    if (outOfTime(ctx)) return { progress, stopped: true };
    const chunk = items.slice(progress.cursor, progress.cursor + settings.chunkSize);
    await account(ctx, progress, await pullItems(ctx, chunk, progress.totals));
    progress.cursor += chunk.length;
    // The last chunk's progress is saved with the group's end, below: one write fewer per group.
    if (progress.cursor < items.length) await save();
    report(ctx);
  }
  const failing = progress.pending.filter((p) => p.runId === plan.runId && isTransient(p.reason));
  if (failing.length > 0 && progress.chances < MAX_CHANCES) {
    if (outOfTime(ctx)) {
      await save();
      return { progress, stopped: true };
    }
    await secondChance(ctx, progress, failing);
    progress.chances += 1;
    const still = progress.pending.filter((p) => p.runId === plan.runId && isTransient(p.reason));
    if (still.length > 0 && progress.chances < MAX_CHANCES) {
      await save();
      return { progress, stopped: false, retryLater: retryError(still) };
    }
  }
  finish(settings, progress);
  await save();
  return { progress, stopped: false };
}

function outOfTime({ deps, settings, aborted }: Context): boolean {
  return aborted || deps.remainingMs() < settings.reserveMs;
}

function report({ deps, plan, seen }: Context): void {
  deps.onProgress?.({ numbersDone: seen.numbersDone, numbersTotal: plan.numbers.total, records: seen.records });
}

const NOT_TRANSIENT = new Set(['Incomplete', 'CorruptObject']);
function isTransient(reason: string): boolean {
  return !NOT_TRANSIENT.has(reason);
}

/** The taxonomy name of a window still failing, from the Tencent code it failed with. */
function failingName(reason: string): 'RateLimited' | 'UpstreamUnavailable' {
  return reason.startsWith('RequestLimitExceeded') ? 'RateLimited' : 'UpstreamUnavailable';
}

/** Pulls again the windows that failed transiently in this run: Tencent may have recovered. */
async function secondChance(ctx: Context, progress: GroupProgress, failing: PendingWindow[]): Promise<void> {
  const retried = new Set(failing);
  progress.pending = progress.pending.filter((p) => !retried.has(p));
  const items = workItems({ numbers: [], pending: failing.map((p) => ({ ...p, runs: p.runs - 1 })) }, ctx.plan.window);
  const outcomes = await pullItems(ctx, items, progress.totals);
  await account(ctx, progress, outcomes, { final: true });
}

/** The group is done: what it still owes is counted, its stuck numbers named, its failing numbers reported. */
function finish(settings: ExportSettings, progress: GroupProgress): void {
  progress.totals = addTotals(progress.totals, owedTotals(progress.pending, settings.stuckAfterRuns));
  progress.done = true;
}

/** The counts of what a group owes: windows, stuck numbers, and numbers still failing transiently. */
export function owedTotals(pending: PendingWindow[], stuckAfterRuns: number): RunTotals {
  const totals = emptyTotals();
  const numbers = (list: PendingWindow[]): string[] => [...new Set(list.map((p) => p.phoneNumber))];
  totals.pendingWindows = pending.length;
  const stuck = numbers(pending.filter((p) => isStuck(p, stuckAfterRuns)));
  totals.stuckCount = stuck.length;
  totals.stuckNumbers = sample([], stuck);
  const failing = pending.filter((p) => isTransient(p.reason));
  totals.failureCount = numbers(failing).length;
  totals.failures = sample(
    [],
    failing.map((p) => ({ phoneNumber: p.phoneNumber, kind: 'transient', name: failingName(p.reason), code: p.reason, message: 'still failing after retries; owed to the next run' })),
  );
  return totals;
}

function retryError(still: PendingWindow[]): SmsStatusError {
  const first = still[0] as PendingWindow;
  const detail = `${still.length} windows still failing after retries (first: ${first.reason})`;
  return failingName(first.reason) === 'RateLimited' ? new RateLimited(detail, { code: first.reason }) : new UpstreamUnavailable(detail, { code: first.reason });
}

/** Pulls items side by side; their requests, retries and throttles count in `stats`. */
async function pullItems(ctx: Context, items: Item[], stats: PaceStats): Promise<Outcome[]> {
  const outcomes = await countedIn(stats, () => Promise.all(items.map((item) => ctx.limitPulls(() => pullItem(ctx, item)))));
  const fatal = outcomes.find((o) => o instanceof UpstreamRejected);
  if (fatal) throw fatal;
  return outcomes as Outcome[];
}

async function pullItem({ deps, settings, plan }: Context, item: Item): Promise<Outcome | UpstreamRejected> {
  const outcome: Outcome = { item, records: [], owed: [], incomplete: false, gapSeconds: 0 };
  const owe = (window: Window, reason: string): void => {
    outcome.owed.push({ phoneNumber: item.phoneNumber, ...window, runs: item.runs + 1, reason, runId: plan.runId });
  };
  for (const window of item.windows) {
    try {
      const result = await collect(deps.client, { phoneNumber: item.phoneNumber, ...window, limit: MAX_LIMIT, all: true }, { maxRequests: 10_000, concurrency: 2 });
      for (const record of result.records) outcome.records.push(Object.assign(record, { sdkAppId: settings.sdkAppId }));
      if (result.agedUntil !== undefined) outcome.gapSeconds += Math.min(result.agedUntil, window.endTime + 1) - window.beginTime;
      for (const part of result.incompleteWindows) owe(part, 'Incomplete');
      if (result.incompleteWindows.length > 0) outcome.incomplete = true;
    } catch (error) {
      if (!isSmsStatusError(error)) throw error;
      if (error instanceof UpstreamRejected) return error;
      if (error.retryable) owe(window, error.code);
      else outcome.failure = failureOf(item.phoneNumber, error);
    }
  }
  return outcome;
}

function failureOf(phoneNumber: string, error: SmsStatusError): Failure {
  return { phoneNumber, kind: 'rejected', name: error.name, code: error.code, message: error.detail, requestId: error.requestId };
}

/** Writes a chunk's records and adds its outcome to the group's totals and owed windows. */
async function account(ctx: Context, progress: GroupProgress, outcomes: Outcome[], { final = false }: { final?: boolean } = {}): Promise<void> {
  const totals = progress.totals;
  await writeRecords(ctx, progress, outcomes.flatMap((o) => o.records));
  for (const o of outcomes) {
    if (o.item.onList && !final) {
      totals.numbersDone += 1;
      ctx.seen.numbersDone += 1;
    }
    totals.records += o.records.length;
    ctx.seen.records += o.records.length;
    for (const record of o.records) totals.recordsByStatus[record.reportStatus] = (totals.recordsByStatus[record.reportStatus] ?? 0) + 1;
    progress.pending.push(...o.owed);
    if (o.failure) {
      totals.failureCount += 1;
      totals.failures = sample(totals.failures, [o.failure]);
    }
    if (o.incomplete) {
      totals.incompleteCount += 1;
      totals.incompleteNumbers = sample(totals.incompleteNumbers, [o.item.phoneNumber]);
    }
    if (o.gapSeconds > 0) {
      totals.retentionGapSeconds += o.gapSeconds;
      totals.gapCount += 1;
      totals.gapNumbers = sample(totals.gapNumbers, [o.item.phoneNumber]);
    }
  }
}

/**
 * Merges records into the group's day objects. A corrupt object is copied aside and rebuilt from what it
 * still held and the records merged; the lake's ledger owes its day to every job of its group from then on
 * (rebuilds.ts). The debt is written before the object is overwritten, so an invocation killed in between
 * leaves the object corrupt (found again) or the day owed, never neither.
 */
async function writeRecords(ctx: Context, progress: GroupProgress, records: ExportRecord[]): Promise<void> {
  const { deps, settings } = ctx;
  const byDay = Map.groupBy(records, (record) => utcDay(record.userReceiveTime));
  const limitMerges = pLimit(DAY_MERGES);
  await Promise.all(
    [...byDay].map(([day, list]) =>
      limitMerges(async () => {
        const merged = await mergeInto(deps.store, settings.bucket, objectKey(settings.prefix, day, progress.group), list, { prefix: settings.prefix, now: deps.now });
        if (merged.quarantined) noteCorrupt(progress, merged.quarantined);
        progress.totals.objectsWritten += 1;
      }),
    ),
  );
}

/** A corrupt day object met and rebuilt (the lake's ledger owes its day): named in the run's totals. */
function noteCorrupt(progress: GroupProgress, quarantined: Quarantined): void {
  if (!progress.totals.corruptObjects.some((c) => c.key === quarantined.key)) progress.totals.corruptObjects = sample(progress.totals.corruptObjects, [quarantined]);
}

export interface GroupsOutcome {
  stopped: boolean;
  retryLater?: SmsStatusError;
}

/** Exports groups side by side; the first error aborts the others after their current chunk. */
export async function exportGroups(
  deps: ExportDeps,
  settings: ExportSettings,
  plan: Plan,
  groups: number[],
  works?: Map<number, GroupWork>,
): Promise<GroupsOutcome> {
  finishBy(deps.client, deps.now(), deps.remainingMs(), settings.reserveMs / 2);
  const state = new StateStore(deps.store, settings.bucket, settings.prefix);
  const ctx: Context = { deps, settings, plan, state, limitPulls: pLimit(settings.concurrency), seen: { numbersDone: 0, records: 0 }, works, aborted: false };
  const limitGroups = pLimit(settings.groupConcurrency);
  const visit = (group: number): Promise<GroupResult> =>
    exportGroup(ctx, group).catch((error: unknown) => {
      ctx.aborted = true;
      // Another invocation runs this run (it saved the group's progress first, or committed the run):
      // what this one merged is merged, and the rest is left to that one.
      if (error instanceof WriteConflict || error instanceof RunCleared) return { progress: newProgress(group), stopped: true };
      throw error;
    });
  const results = await Promise.allSettled(groups.map((group) => limitGroups(() => visit(group))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const done = results.map((r) => (r as PromiseFulfilledResult<GroupResult>).value);
  return { stopped: done.some((r) => r.stopped), retryLater: done.find((r) => r.retryLater)?.retryLater };
}
