import pLimit from 'p-limit';
import { sweep, SWEEP_DEFAULTS, type Delivery } from '#lib/events/deliver.ts';
import { dayOfKey, shardOfGroup } from '#lib/lake/layout.ts';
import { settleRebuilds, type Ledger } from '#lib/lake/ledger.ts';
import { owedTotals } from './group-ledger.ts';
import { JobStore } from './job-store.ts';
import { dayWindow, OWED } from './owed.ts';
import { refusedShards } from './results.ts';
import { RunStore, type GroupProgress } from './run-store.ts';
import { checkpointReached, summarize } from './summary.ts';
import { addTotals, capped, emptyTotals, type RunTotals } from './totals.ts';
import type { ExportDeps, ExportSettings, OwedWindow, Plan, RunSummary } from './types.ts';

const STATE_CONCURRENCY = 8;

/** Adds up the groups of a run; a group under way counts what it owes so far. */
export async function runTotals(
  store: RunStore,
  plan: Plan,
  stuckAfterRuns: number,
): Promise<{ totals: RunTotals; progress: Array<GroupProgress | undefined> }> {
  const limitReads = pLimit(STATE_CONCURRENCY);
  const progress = await Promise.all(
    plan.groups.map((g) => limitReads(async () => (await store.groupProgress(plan, g))?.value)),
  );
  const totals = emptyTotals();
  for (const p of progress) {
    if (p)
      addTotals(totals, p.done ? p.totals : addTotals(structuredClone(p.totals), owedTotals(p.owed, stuckAfterRuns)));
  }
  totals.invocations = plan.invocations ?? shardInvocations(plan, progress);
  return { totals, progress };
}

/** A shard's invocations are those of its longest-running group; a workflow's, those of its shards. */
function shardInvocations(plan: Plan, progress: Array<GroupProgress | undefined>): number {
  const byShard = new Map<number, number>();
  plan.groups.forEach((group, i) => {
    const shard = shardOfGroup(group);
    byShard.set(shard, Math.max(byShard.get(shard) ?? 0, progress[i]?.totals.invocations ?? 0));
  });
  return [...byShard.values()].reduce((sum, n) => sum + n, 0);
}

/**
 * Ends a run: each group's owed windows replace the ones it consumed, the checkpoint of a scheduled job
 * moves to the window's end once every group is done (what is owed travels in the owed windows, so
 * one failing number holds nobody back), the lake's rebuilds the run paid are settled, and the
 * summary is written. A workflow's commit names its shards' `results`: a shard the workflow caught is
 * recorded as refused, its groups' windows owed; one neither done (by its own progress in S3) nor refused
 * is a forged or early commit, refused before anything is cleared. Safe to repeat.
 */
export async function commitRun(
  deps: Pick<ExportDeps, 'store' | 'now' | 'events'>,
  settings: ExportSettings,
  plan: Plan,
  results?: unknown[],
): Promise<RunSummary> {
  const runs = new RunStore(deps.store, settings.bucket, settings.prefix);
  const jobs = new JobStore(deps.store, settings.bucket, settings.prefix);
  // Committed already, and killed while clearing its state: the summary stands, the clearing is redone.
  const committed = await runs.summary(plan);
  if (committed?.finished) {
    await runs.clear(plan);
    return committed;
  }
  const { totals, progress } = await runTotals(runs, plan, settings.stuckAfterRuns);
  const refused = results ? refusedShards(plan, progress, results) : new Set<number>();
  const groupsDone = progress.every((p) => p?.done);
  const owed = await replaceOwed({ runs, jobs }, plan, progress, refused);
  addTotals(totals, owedTotals(owed, settings.stuckAfterRuns));
  const ledger = await settleRebuilds(
    deps.store,
    settings.bucket,
    settings.prefix,
    paidRebuilds(plan, progress),
    plan.jobId,
    deps.now(),
  );
  withRebuiltMeanwhile(totals, plan, ledger);
  const checkpoint = { endTime: plan.window.endTime, runId: plan.runId, updatedAt: new Date(deps.now()).toISOString() };
  const moved = groupsDone && plan.scheduled ? await jobs.advanceCheckpoint(plan.jobId, checkpoint) : undefined;
  const reached = moved ? moved.endTime : await checkpointReached(jobs, plan);
  const events = await sweepEvents(deps, settings);
  totals.eventsPublished += events?.published ?? 0;
  const summary = summarize(deps, plan, totals, {
    finished: true,
    groupsDone,
    advanced: moved?.runId === plan.runId,
    reached,
  });
  if (events) summary.eventsOwed = events.owed;
  const held = await runs.saveSummary(summary, await runs.problems(plan));
  await runs.clear(plan);
  return held;
}

/**
 * What earlier runs, killed invocations or an EventBridge outage left in the outbox: sent now, where the lake holds it.
 */
function sweepEvents(
  deps: Pick<ExportDeps, 'store' | 'now' | 'events'>,
  settings: ExportSettings,
): Promise<Delivery | undefined> {
  if (!deps.events) return Promise.resolve(undefined);
  return sweep(deps.events, { store: deps.store, bucket: settings.bucket }, SWEEP_DEFAULTS, deps.now());
}

/**
 * Each done group's owed windows replace the ones it consumed; a refused group owes its whole frozen
 * work again (its numbers the run's window, its owed windows one run more). Answers the refused groups' debt.
 */
async function replaceOwed(
  stores: { runs: RunStore; jobs: JobStore },
  plan: Plan,
  progress: Array<GroupProgress | undefined>,
  refused: Set<number>,
): Promise<OwedWindow[]> {
  const limitWrites = pLimit(STATE_CONCURRENCY);
  const added = await Promise.all(
    plan.groups.map((group, i) =>
      limitWrites(async () => {
        const done = progress[i];
        if (!done?.done && !refused.has(shardOfGroup(group))) return [];
        const work = await stores.runs.work(plan, group);
        const owed = done?.done ? done.owed : refusedWork(plan, work.numbers, work.owed);
        // The lake's ledger owes rebuilt days itself (owed-rebuilds.ts): they are not copied into the job's windows.
        await stores.jobs.replaceOwed(
          plan.jobId,
          group,
          work.owed,
          owed.filter((p) => p.reason !== OWED.rebuild),
        );
        return done?.done ? [] : owed;
      }),
    ),
  );
  return added.flat();
}

/**
 * Day objects of the run's groups found corrupt and rebuilt while it ran (by it, a killed invocation of
 * it, or another writer): what stood after the damage is owed to the next run, so this one is not complete.
 */
function withRebuiltMeanwhile(totals: RunTotals, plan: Plan, ledger: Ledger): void {
  const found = ledger.rebuilds.filter(
    (r) => plan.groups.includes(r.group) && r.foundAt >= plan.startedAt && r.paid[plan.jobId] === undefined,
  );
  for (const rebuild of found) {
    if (totals.corruptObjects.some((c) => c.key === rebuild.key)) continue;
    const note = {
      key: rebuild.key,
      movedTo: rebuild.copies[0] ?? '',
      error: 'rebuilt while this run ran: owed to the next run',
    };
    totals.corruptObjects = capped(totals.corruptObjects, [note]);
  }
}

function refusedWork(plan: Plan, numbers: string[], owed: OwedWindow[]): OwedWindow[] {
  const again = numbers.map((phoneNumber) => ({
    phoneNumber,
    ...plan.window,
    runs: 1,
    reason: OWED.refused,
    runId: plan.runId,
  }));
  return [...again, ...owed.map((p) => ({ ...p, runs: p.runs + 1, runId: plan.runId }))];
}

/**
 * The rebuilds this run paid: its group done, and no window of that day still failing for it (a
 * saturated second owed as Incomplete is the job's own debt, and does not hold the ledger's back).
 */
function paidRebuilds(plan: Plan, progress: Array<GroupProgress | undefined>): Plan['rebuilds'] {
  return plan.rebuilds.filter((rebuild) => {
    const group = progress[plan.groups.indexOf(rebuild.group)];
    const day = dayWindow(dayOfKey(rebuild.key) ?? '', Number.POSITIVE_INFINITY);
    return (
      group?.done &&
      !group.owed.some((p) => p.reason !== OWED.incomplete && p.beginTime <= day.endTime && p.endTime >= day.beginTime)
    );
  });
}
