import pLimit from 'p-limit';
import { owedTotals } from './groups.ts';
import { dayOfKey, shardOfGroup } from '#lib/lake/layout.ts';
import { dayWindow } from './pending.ts';
import { settleDebts, type Ledger } from '#lib/lake/ledger.ts';
import { refusedShards } from './results.ts';
import { addTotals, emptyTotals, sample, StateStore, type GroupProgress } from './state.ts';
import type { ExportDeps, ExportSettings, PendingWindow, Plan, RunSummary, RunTotals } from './types.ts';

const STATE_CONCURRENCY = 8;

/** Adds up the groups of a run; a group under way counts what it owes so far. */
export async function runTotals(state: StateStore, plan: Plan, stuckAfterRuns: number): Promise<{ totals: RunTotals; progress: Array<GroupProgress | undefined> }> {
  const limitReads = pLimit(STATE_CONCURRENCY);
  const progress = await Promise.all(plan.groups.map((g) => limitReads(async () => (await state.groupProgress(plan, g))?.value)));
  const totals = emptyTotals();
  for (const p of progress) {
    if (p) addTotals(totals, p.done ? p.totals : addTotals({ ...p.totals }, owedTotals(p.pending, stuckAfterRuns)));
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
 * moves to the window's end once every group is done (what is owed travels in the pending windows, so
 * one failing number holds nobody back), the lake's rebuild debts the run paid are settled, and the
 * summary is written. A workflow's commit names its shards' `results`: a shard the workflow caught is
 * recorded as refused, its groups' windows owed; one neither done (by its own progress in S3) nor refused
 * is a forged or early commit, refused before anything is cleared. Safe to repeat.
 */
export async function commitRun(deps: Pick<ExportDeps, 'store' | 'now'>, settings: ExportSettings, plan: Plan, results?: unknown[]): Promise<RunSummary> {
  const state = new StateStore(deps.store, settings.bucket, settings.prefix);
  // Committed already, and killed while clearing its state: the summary stands, the clearing is redone.
  const committed = await state.summary(plan);
  if (committed?.finished) {
    await state.clearRun(plan);
    return committed;
  }
  const { totals, progress } = await runTotals(state, plan, settings.stuckAfterRuns);
  const refused = results ? refusedShards(plan, progress, results) : new Set<number>();
  const finished = progress.every((p) => p?.done);
  const owed = await replaceOwed(state, plan, progress, refused);
  addTotals(totals, owedTotals(owed, settings.stuckAfterRuns));
  const ledger = await settleDebts(deps.store, settings.bucket, settings.prefix, paidDebts(plan, progress), plan.jobId, deps.now());
  withRebuiltMeanwhile(totals, plan, ledger);
  const moved = finished && plan.scheduled ? await state.advanceCheckpoint(plan.jobId, { endTime: plan.window.endTime, runId: plan.runId, updatedAt: new Date(deps.now()).toISOString() }) : undefined;
  const reached = moved ? moved.endTime : await checkpointReached(state, plan);
  const summary = summarize(deps, plan, totals, { finished: true, groupsDone: finished, advanced: moved?.runId === plan.runId, reached });
  const held = await state.saveSummary(summary, await state.problems(plan));
  await state.clearRun(plan);
  return held;
}

/**
 * Each done group's owed windows replace the ones it consumed; a refused group owes its whole frozen
 * work again (its numbers the run's window, its owed windows one run more). Answers the refused groups' debt.
 */
async function replaceOwed(state: StateStore, plan: Plan, progress: Array<GroupProgress | undefined>, refused: Set<number>): Promise<PendingWindow[]> {
  const limitWrites = pLimit(STATE_CONCURRENCY);
  const added = await Promise.all(
    plan.groups.map((group, i) =>
      limitWrites(async () => {
        const done = progress[i];
        if (!done?.done && !refused.has(shardOfGroup(group))) return [];
        const work = await state.work(plan, group);
        const owed = done?.done ? done.pending : refusedWork(plan, work.numbers, work.pending);
        // The ledger owes rebuilt days itself (rebuilds.ts): they are not copied into the job's windows.
        await state.replacePending(plan.jobId, group, work.pending, owed.filter((p) => p.reason !== 'Rebuild'));
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
  const found = ledger.rebuilds.filter((debt) => plan.groups.includes(debt.group) && debt.foundAt >= plan.startedAt && debt.paid[plan.jobId] === undefined);
  for (const debt of found) {
    if (totals.corruptObjects.some((c) => c.key === debt.key)) continue;
    totals.corruptObjects = sample(totals.corruptObjects, [{ key: debt.key, movedTo: debt.copies[0] ?? '', error: 'rebuilt while this run ran: owed to the next run' }]);
  }
}

function refusedWork(plan: Plan, numbers: string[], pending: PendingWindow[]): PendingWindow[] {
  const again = numbers.map((phoneNumber) => ({ phoneNumber, ...plan.window, runs: 1, reason: 'Refused', runId: plan.runId }));
  return [...again, ...pending.map((p) => ({ ...p, runs: p.runs + 1, runId: plan.runId }))];
}

/**
 * The rebuild debts this run paid: its group done, and no window of that day still failing for it (a
 * saturated second owed as Incomplete is the job's own debt, and does not hold the ledger's back).
 */
function paidDebts(plan: Plan, progress: Array<GroupProgress | undefined>): Plan['debts'] {
  return plan.debts.filter((debt) => {
    const group = progress[plan.groups.indexOf(debt.group)];
    const day = dayWindow(dayOfKey(debt.key) ?? '', Number.POSITIVE_INFINITY);
    return group?.done && !group.pending.some((p) => p.reason !== 'Incomplete' && p.beginTime <= day.endTime && p.endTime >= day.beginTime);
  });
}

/**
 * Where the run's job stands (unix seconds), for the summary's checkpointAgeSeconds: a scheduled job's
 * checkpoint as stored (read, not assumed: a later run of the job may have moved it further), or the
 * beginning of its window while it has none; any other run's own window's end.
 */
export async function checkpointReached(state: StateStore, plan: Plan): Promise<number> {
  if (!plan.scheduled) return plan.window.endTime;
  return (await state.checkpoint(plan.jobId))?.endTime ?? plan.window.beginTime;
}

export interface RunState {
  /** The run is over: committed, nothing left to resume. */
  finished: boolean;
  /** Every group's work is done. */
  groupsDone: boolean;
  advanced: boolean;
  /** Where the job stands (checkpointReached), unix seconds. */
  reached: number;
}

export function summarize(deps: Pick<ExportDeps, 'now'>, plan: Plan, counted: RunTotals, { finished, groupsDone, advanced, reached }: RunState): RunSummary {
  const totals = withLost(withAgedOut(counted, plan), plan);
  const owesNothing = totals.pendingWindows === 0 && totals.retentionGapSeconds === 0 && totals.corruptObjects.length === 0 && totals.lostObjects.length === 0;
  const now = deps.now();
  return {
    runId: plan.runId,
    jobId: plan.jobId,
    startedAt: plan.startedAt,
    finishedAt: new Date(now).toISOString(),
    durationMs: now - Date.parse(plan.startedAt),
    window: plan.window,
    ...(plan.agedOut ? { agedOut: plan.agedOut } : {}),
    numbersTotal: plan.numbers.total,
    ...totals,
    finished,
    complete: groupsDone && owesNothing,
    checkpointAdvanced: advanced,
    checkpointAgeSeconds: Math.max(0, Math.floor(now / 1000) - reached),
    manifestProblems: plan.numbers.problems,
    manifestProblemCount: plan.numbers.problemCount,
    duplicateNumbers: plan.numbers.duplicates,
  };
}

/** Rebuilt day objects part of which aged out before this job could pull them again: named as lost. */
function withLost(totals: RunTotals, plan: Plan): RunTotals {
  const lost = plan.debts.filter((debt) => debt.lost).map((debt) => debt.key);
  return lost.length === 0 ? totals : { ...totals, lostObjects: sample(totals.lostObjects, lost) };
}

/** The stretch that aged out before the run began is lost for every number of the list. */
function withAgedOut(totals: RunTotals, plan: Plan): RunTotals {
  if (!plan.agedOut) return totals;
  const seconds = plan.agedOut.endTime - plan.agedOut.beginTime + 1;
  return { ...totals, retentionGapSeconds: totals.retentionGapSeconds + seconds * plan.numbers.total, gapCount: totals.gapCount + plan.numbers.total };
}
