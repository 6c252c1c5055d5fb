import { commitRun, runTotals } from './commit.ts';
import { exportGroups } from './export-group.ts';
import { jobIdOf } from './job.ts';
import { JobStore } from './job-store.ts';
import { planWork } from './planner.ts';
import type { ExportRequest } from './request.ts';
import { RunStore, type GroupWork } from './run-store.ts';
import { checkpointReached, summarize } from './summary.ts';
import type { ExportDeps, ExportSettings, RunSummary } from './types.ts';
import type { SmsStatusError } from '#lib/errors.ts';

export interface RunOutcome {
  summary: RunSummary;
  /** Numbers still fail transiently and the run holds their chances: invoke again after a pause. */
  retryLater?: SmsStatusError;
}

/**
 * One invocation of an export: resumes the job's unfinished run or plans a new one, exports every
 * group (saving progress after each chunk), stops cleanly when time runs short, and commits once
 * every group is done.
 */
export async function runExport(
  deps: ExportDeps,
  settings: ExportSettings,
  request: ExportRequest,
): Promise<RunOutcome> {
  const runs = new RunStore(deps.store, settings.bucket, settings.prefix);
  const jobs = new JobStore(deps.store, settings.bucket, settings.prefix);
  const jobId = jobIdOf(request, settings.defaults);
  let plan = await jobs.resumeRun(jobId);
  if (plan && (await runs.summary(plan))?.finished) {
    // The run committed, but its invocation died clearing its state: finish that, then run anew.
    await runs.clear(plan);
    await jobs.endRun(jobId);
    plan = undefined;
  }
  let planned: Map<number, GroupWork> | undefined;
  if (!plan) {
    const fresh = await planWork(deps, settings, request);
    plan = await jobs.startRun(jobId, fresh.plan);
    // Another invocation's run may have won the race: its frozen work is in S3, not here.
    if (plan.runId === fresh.plan.runId) planned = fresh.works;
  }
  const { stopped, retryLater } = await exportGroups(deps, settings, plan, plan.groups, planned);
  if (stopped || retryLater) {
    const { totals } = await runTotals(runs, plan, settings.stuckAfterRuns);
    const reached = await checkpointReached(jobs, plan);
    const summary = summarize(deps, plan, totals, { finished: false, groupsDone: false, advanced: false, reached });
    const held = await runs.saveSummary(summary);
    // Committed meanwhile by another invocation of the job: its summary is the run's.
    return held.finished ? { summary: held } : { summary, retryLater };
  }
  const summary = await commitRun(deps, settings, plan);
  await jobs.endRun(jobId);
  return { summary };
}
