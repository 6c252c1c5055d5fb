import type { JobStore } from './job-store.ts';
import { capped, type RunTotals } from './totals.ts';
import type { ExportDeps, Plan, RunSummary } from './types.ts';

/**
 * Where the run's job stands (unix seconds), for the summary's checkpointAgeSeconds: a scheduled job's
 * checkpoint as stored (read, not assumed: a later run of the job may have moved it further), or the
 * beginning of its window while it has none; any other run's own window's end.
 */
export async function checkpointReached(jobs: JobStore, plan: Plan): Promise<number> {
  if (!plan.scheduled) return plan.window.endTime;
  return (await jobs.checkpoint(plan.jobId))?.endTime ?? plan.window.beginTime;
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

export function summarize(
  deps: Pick<ExportDeps, 'now'>,
  plan: Plan,
  counted: RunTotals,
  { finished, groupsDone, advanced, reached }: RunState,
): RunSummary {
  const totals = withLost(withAgedOut(counted, plan), plan);
  const owesNothing =
    totals.pendingWindows === 0 &&
    totals.retentionGapSeconds === 0 &&
    totals.corruptObjects.length === 0 &&
    totals.lostObjects.length === 0;
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
  const lost = plan.rebuilds.filter((rebuild) => rebuild.lost).map((rebuild) => rebuild.key);
  return lost.length === 0 ? totals : { ...totals, lostObjects: capped(totals.lostObjects, lost) };
}

/** The stretch that aged out before the run began is lost for every number of the list. */
function withAgedOut(totals: RunTotals, plan: Plan): RunTotals {
  if (!plan.agedOut) return totals;
  const seconds = plan.agedOut.endTime - plan.agedOut.beginTime + 1;
  return {
    ...totals,
    retentionGapSeconds: totals.retentionGapSeconds + seconds * plan.numbers.total,
    gapCount: totals.gapCount + plan.numbers.total,
  };
}
