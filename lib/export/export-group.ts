import pLimit from 'p-limit';
import { RateLimited, UpstreamUnavailable, type SmsStatusError } from '#lib/errors.ts';
import { deliver } from '#lib/events/deliver.ts';
import { WriteConflict } from '#lib/lake/store.ts';
import { tallyOf } from '#lib/receipt.ts';
import { setDeadline } from '#lib/pace/paced.ts';
import { GroupLedger } from './group-ledger.ts';
import { outOfTime, ProgressLine, type GroupRun } from './group-run.ts';
import { mergeDays } from './merge-days.ts';
import { failingName } from './owed.ts';
import { numberWork, pullNumbers, type NumberWork } from './pull-numbers.ts';
import { newProgress, RunCleared, RunStore, type GroupProgress, type GroupWork } from './run-store.ts';
import type { ExportDeps, ExportSettings, OwedWindow, Plan } from './types.ts';

/** Passes over a group's transient failures (the first in the run, the rest in later invocations). */
export const MAX_CHANCES = 3;

export interface GroupResult {
  progress: GroupProgress;
  /** Out of time: the next invocation resumes the group. */
  stopped: boolean;
  /** Numbers still fail transiently and chances are left: the platform should retry after a pause. */
  retryLater?: SmsStatusError;
}

/** One chunk of numbers: pull → merge → record (the ledger). */
async function exportChunk(run: GroupRun, ledger: GroupLedger, numbers: NumberWork[], retried = false): Promise<void> {
  const outcomes = await pullNumbers(run, numbers, ledger.totals);
  const merged = await mergeDays(
    run,
    ledger.progress.group,
    outcomes.flatMap((o) => o.records),
  );
  ledger.totals.objectsWritten += merged.written;
  for (const quarantined of merged.corrupt) ledger.corrupt(quarantined);
  if (merged.added.length > 0) run.deps.onNewReceipts?.(tallyOf(merged.added));
  // Sent now, or left in the outbox for the commit's sweep (or the drain's): never lost either way.
  if (run.deps.events) ledger.totals.eventsPublished += (await deliver(run.deps.events, merged.staged)).published;
  const numbersDone = retried ? 0 : outcomes.filter((o) => o.work.listed).length;
  ledger.add(outcomes, { retried });
  run.progressLine.add(
    numbersDone,
    outcomes.reduce((sum, o) => sum + o.records.length, 0),
  );
}

/**
 * Exports a group of a run, chunk by chunk (pull → merge → record → save), resuming where an earlier
 * invocation saved; then gives the numbers that kept failing another pass, and finishes the group.
 */
export async function exportGroup(run: GroupRun, group: number): Promise<GroupResult> {
  const saved = await run.store.groupProgress(run.plan, group);
  const ledger = new GroupLedger(saved?.value ?? newProgress(group));
  const progress = ledger.progress;
  // Progress lines count what earlier invocations of the run did too.
  run.progressLine.add(progress.totals.numbersDone, progress.totals.records);
  if (progress.done) return { progress, stopped: false };
  let etag = saved?.etag;
  const save = async (): Promise<void> => {
    etag = await run.store.saveGroupProgress(run.plan, progress, etag);
  };
  const work = run.planned?.get(group) ?? (await run.store.work(run.plan, group));
  const numbers = numberWork(work, run.plan.window);
  progress.totals.invocations += 1;
  while (progress.cursor < numbers.length) {
    if (outOfTime(run)) return { progress, stopped: true };
    const chunk = numbers.slice(progress.cursor, progress.cursor + run.settings.chunkSize);
    await exportChunk(run, ledger, chunk);
    progress.cursor += chunk.length;
    // The last chunk's progress is saved with the group's end, below: one write fewer per group.
    if (progress.cursor < numbers.length) await save();
    run.progressLine.show();
  }
  const retry = await retryFailing(run, ledger, save);
  if (retry) return retry;
  ledger.finish(run.settings.stuckAfterRuns);
  await save();
  return { progress, stopped: false };
}

/**
 * The windows that failed transiently in this run get another pass (Tencent may have recovered), while chances last.
 */
async function retryFailing(
  run: GroupRun,
  ledger: GroupLedger,
  save: () => Promise<void>,
): Promise<GroupResult | undefined> {
  const { progress } = ledger;
  const failing = ledger.failing(run.plan.runId);
  if (failing.length === 0 || progress.chances >= MAX_CHANCES) return undefined;
  if (outOfTime(run)) {
    await save();
    return { progress, stopped: true };
  }
  ledger.forgive(failing);
  const again: GroupWork = { numbers: [], owed: failing.map((p) => ({ ...p, runs: p.runs - 1 })) };
  await exportChunk(run, ledger, numberWork(again, run.plan.window), true);
  progress.chances += 1;
  const still = ledger.failing(run.plan.runId);
  if (still.length === 0 || progress.chances >= MAX_CHANCES) return undefined;
  await save();
  return { progress, stopped: false, retryLater: retryError(still) };
}

function retryError(still: OwedWindow[]): SmsStatusError {
  const first = still[0] as OwedWindow;
  const detail = `${still.length} windows still failing after retries (first: ${first.reason})`;
  return failingName(first.reason) === 'RateLimited'
    ? new RateLimited(detail, { code: first.reason })
    : new UpstreamUnavailable(detail, { code: first.reason });
}

export interface GroupsOutcome {
  stopped: boolean;
  retryLater?: SmsStatusError;
}

/** Exports groups side by side; the first error stops the others after their current chunk. */
export async function exportGroups(
  deps: ExportDeps,
  settings: ExportSettings,
  plan: Plan,
  groups: number[],
  planned?: Map<number, GroupWork>,
): Promise<GroupsOutcome> {
  setDeadline(deps.client, deps.now(), deps.remainingMs(), settings.reserveMs / 2);
  const store = new RunStore(deps.store, settings.bucket, settings.prefix);
  const run: GroupRun = {
    deps,
    settings,
    plan,
    store,
    limitPulls: pLimit(settings.concurrency),
    progressLine: new ProgressLine(deps, plan),
    stop: new AbortController(),
    planned,
  };
  const limitGroups = pLimit(settings.groupConcurrency);
  const visit = (group: number): Promise<GroupResult> =>
    exportGroup(run, group).catch((error: unknown) => {
      run.stop.abort();
      // Another invocation runs this run (it saved the group's progress first, or committed the run):
      // what this one merged is merged, and the rest is left to that one.
      if (error instanceof WriteConflict || error instanceof RunCleared)
        return { progress: newProgress(group), stopped: true };
      throw error;
    });
  const results = await Promise.allSettled(groups.map((group) => limitGroups(() => visit(group))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const done = results.map((r) => (r as PromiseFulfilledResult<GroupResult>).value);
  return { stopped: done.some((r) => r.stopped), retryLater: done.find((r) => r.retryLater)?.retryLater };
}
