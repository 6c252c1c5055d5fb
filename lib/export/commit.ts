import pLimit from 'p-limit';
import { owedTotals } from './groups.ts';
import { shardOfGroup } from './layout.ts';
import { addTotals, emptyTotals, StateStore, type GroupProgress } from './state.ts';
import type { ExportDeps, ExportSettings, Plan, RunSummary, RunTotals } from './types.ts';

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
 * Ends a run whose groups are all done: each group's owed windows replace the ones it consumed, the
 * checkpoint of a scheduled job moves to the window's end (what is owed travels in the pending
 * windows, so one failing number holds nobody back), and the summary is written. Safe to repeat.
 */
export async function commitRun(deps: Pick<ExportDeps, 'store' | 'now'>, settings: ExportSettings, plan: Plan): Promise<RunSummary> {
  const state = new StateStore(deps.store, settings.bucket, settings.prefix);
  // Committed already, and killed while clearing its state: the summary stands, the clearing is redone.
  const committed = await state.summary(plan);
  if (committed?.finished) {
    await state.clearRun(plan);
    return committed;
  }
  const { totals, progress } = await runTotals(state, plan, settings.stuckAfterRuns);
  const finished = progress.every((p) => p?.done);
  // A done group's owed windows stand even when another group is not done (a workflow's rejected
  // shard): the run's state is cleared below, and a rebuild owed for a whole day lies outside the
  // window the next run covers again.
  const limitWrites = pLimit(STATE_CONCURRENCY);
  await Promise.all(
    plan.groups.map((group, i) => {
      const done = progress[i];
      if (!done?.done) return undefined;
      return limitWrites(async () => state.replacePending(plan.jobId, group, (await state.work(plan, group)).pending, done.pending));
    }),
  );
  const advanced = finished && plan.scheduled ? await state.advanceCheckpoint(plan.jobId, { endTime: plan.window.endTime, runId: plan.runId, updatedAt: new Date(deps.now()).toISOString() }) : undefined;
  const reached = advanced ? advanced.endTime : await checkpointReached(state, plan);
  const summary = summarize(deps, plan, totals, { finished: true, groupsDone: finished, advanced: finished && plan.scheduled, reached });
  const held = await state.saveSummary(summary);
  await state.clearRun(plan);
  return held;
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
  const totals = withAgedOut(counted, plan);
  const owesNothing = totals.pendingWindows === 0 && totals.retentionGapSeconds === 0 && totals.corruptObjects.length === 0;
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

/** The stretch that aged out before the run began is lost for every number of the list. */
function withAgedOut(totals: RunTotals, plan: Plan): RunTotals {
  if (!plan.agedOut) return totals;
  const seconds = plan.agedOut.endTime - plan.agedOut.beginTime + 1;
  return { ...totals, retentionGapSeconds: totals.retentionGapSeconds + seconds * plan.numbers.total, gapCount: totals.gapCount + plan.numbers.total };
}
