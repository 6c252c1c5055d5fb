import { InvalidInput } from '#lib/errors.ts';
import { exportGroups } from './groups.ts';
import { SHARDS, shardOfGroup } from './layout.ts';
import type { ExportRequest } from './request.ts';
import type { ExportDeps, ExportSettings, Plan } from './types.ts';

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
export async function exportShard(deps: ExportDeps, settings: ExportSettings, plan: Plan, shard: number): Promise<ShardResult> {
  if (!Number.isInteger(shard) || shard < 0 || shard >= SHARDS) {
    throw new InvalidInput(`shard must be a whole number from 0 to ${SHARDS - 1}`, { field: 'shard' });
  }
  const groups = plan.groups.filter((g) => shardOfGroup(g) === shard);
  const { stopped, retryLater } = await exportGroups(deps, settings, plan, groups);
  // Numbers still failing: fail the task so the workflow's Retry backs off and invokes it again; that
  // invocation gives just those numbers another chance.
  if (retryLater) throw retryLater;
  return { shard, done: !stopped };
}

export type WorkflowEvent =
  | { action: 'plan'; request: ExportRequest }
  | { action: 'shard'; plan: Plan; shard: number }
  | { action: 'commit'; plan: Plan };

/** Step Functions events carry an `action`; anything else is a plain export request. */
export function workflowEventOf(event: unknown): WorkflowEvent | undefined {
  if (typeof event !== 'object' || event === null || !('action' in event)) return undefined;
  const { action, ...rest } = event as Record<string, unknown>;
  if (action === 'plan') return { action, request: rest.request ?? {} };
  const plan = rest.plan as Plan | undefined;
  if (typeof plan !== 'object' || plan === null || typeof plan.jobId !== 'string' || typeof plan.runId !== 'string' || !Array.isArray(plan.groups) || !Array.isArray(plan.shards)) {
    throw new InvalidInput('plan must be the output of the plan step', { field: 'plan' });
  }
  if (action === 'shard') return { action, plan, shard: rest.shard as number };
  if (action === 'commit') {
    if (!Array.isArray(rest.results)) throw new InvalidInput('results must be the Map output', { field: 'results' });
    return { action, plan };
  }
  throw new InvalidInput("action must be 'plan', 'shard' or 'commit'", { field: 'action' });
}
