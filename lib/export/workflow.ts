import { InvalidInput } from '#lib/errors.ts';
import { exportGroups } from './export-group.ts';
import { SHARDS, shardOfGroup } from '#lib/lake/layout.ts';
import type { ExportRequest } from './request.ts';
import { RunStore, type RunRef } from './run-store.ts';
import type { ExportDeps, ExportSettings, Plan, RunSummary } from './types.ts';

/**
 * The export as a Step Functions workflow: plan → Map over shards (each shard task looping until
 * done) → commit. Shards own disjoint groups and read only the plan's frozen work. Every payload is
 * bounded: the plan carries no numbers, a shard answers with its number and whether it is done.
 */
export interface ShardResult {
  shard: number;
  done: boolean;
}

/** One invocation's worth of one shard; `done: false` tells the workflow to invoke again. */
export async function exportShard(
  deps: ExportDeps,
  settings: ExportSettings,
  run: RunRef,
  shard: number,
): Promise<ShardResult> {
  if (!Number.isInteger(shard) || shard < 0 || shard >= SHARDS) {
    throw new InvalidInput(`shard must be a whole number from 0 to ${SHARDS - 1}`, { field: 'shard' });
  }
  const stored = await storedRun(deps, settings, run);
  // Committed already (a step retried late, or replayed): whatever its clean-up left, nothing is left to
  // do but that clean-up.
  if (stored.committed) {
    await new RunStore(deps.store, settings.bucket, settings.prefix).clear(run);
    return { shard, done: true };
  }
  const plan = stored.plan as Plan;
  if (!plan.shards.includes(shard))
    throw new InvalidInput(`shard ${shard} is not a shard of the run ${plan.runId}`, { field: 'shard' });
  const groups = plan.groups.filter((g) => shardOfGroup(g) === shard);
  const { stopped, retryLater } = await exportGroups(deps, settings, plan, groups);
  // Numbers still failing: fail the task so the workflow's Retry backs off and invokes it again; that
  // invocation gives just those numbers another chance.
  if (retryLater) throw retryLater;
  return { shard, done: !stopped };
}

export type WorkflowEvent =
  | { action: 'plan'; request: ExportRequest }
  | { action: 'shard'; run: RunRef; shard: number }
  | { action: 'commit'; run: RunRef; results: unknown[] };

const JOB_ID = /^[\w.-]{1,200}$/;
const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/**
 * Step Functions events carry an `action`; anything else is a plain export request. A shard or commit
 * step's plan is trusted for naming its run only: what the run does is the plan stored with it.
 */
export function workflowEventOf(event: unknown): WorkflowEvent | undefined {
  if (typeof event !== 'object' || event === null || !('action' in event)) return undefined;
  const { action, ...rest } = event as Record<string, unknown>;
  if (action === 'plan') return { action, request: rest.request ?? {} };
  const plan = rest.plan as Partial<RunRef> | null | undefined;
  if (
    typeof plan?.jobId !== 'string' ||
    !JOB_ID.test(plan.jobId) ||
    typeof plan.runId !== 'string' ||
    !RUN_ID.test(plan.runId)
  ) {
    throw new InvalidInput('plan must be the output of the plan step', { field: 'plan' });
  }
  const run = { jobId: plan.jobId, runId: plan.runId };
  if (action === 'shard') return { action, run, shard: rest.shard as number };
  if (action === 'commit') {
    if (!Array.isArray(rest.results)) throw new InvalidInput('results must be the Map output', { field: 'results' });
    return { action, run, results: rest.results };
  }
  throw new InvalidInput("action must be 'plan', 'shard' or 'commit'", { field: 'action' });
}

/**
 * The run's stored plan, and its committed summary once it has one: a summary that says `finished` is the
 * mark of a committed run, whatever of its state a cut-off clean-up left behind. A run never planned is refused.
 */
export async function storedRun(
  deps: Pick<ExportDeps, 'store'>,
  settings: ExportSettings,
  run: RunRef,
): Promise<{ plan?: Plan; committed?: RunSummary }> {
  const runs = new RunStore(deps.store, settings.bucket, settings.prefix);
  const [plan, summary] = await Promise.all([runs.plan(run), runs.summary(run)]);
  const committed = summary?.finished ? summary : undefined;
  if (plan || committed) return { ...(plan && { plan }), ...(committed && { committed }) };
  throw new InvalidInput(`plan names no run of this export: ${run.runId} of ${run.jobId} was never planned`, {
    field: 'plan',
  });
}
