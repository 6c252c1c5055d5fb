import { InvalidInput } from '#lib/tencent/errors.ts';
import { exportGroups, transientError } from './groups.ts';
import { byGroup, digest, SHARDS, shardOfGroup, type Window } from './plan.ts';
import { jobIdOf, numberReport, resolveNumbers, type ExportRequest, type NumberReport } from './request.ts';
import { finishRun, freshProgress, type ExportDeps, type ExportSettings } from './run.ts';
import { emptyTotals, StateStore, type Progress, type RunSummary, type RunTotals } from './state.ts';

/**
 * The export as a Step Functions workflow: plan → Map over shards (each shard task looping until
 * done) → commit. The same group export runs in every shard; shards own disjoint groups, so no two
 * Map iterations ever write the same object.
 */
export interface Plan {
  jobId: string;
  runId: string;
  startedAt: string;
  window: Window;
  request: ExportRequest;
  numbersDigest: string;
  /** For the summary, so the commit need not read the manifest again. */
  numbers: NumberReport;
  /** Where the shard list lies for a Distributed Map's ItemReader. */
  shardList: { bucket: string; key: string };
  shards: number[];
}

export interface ShardResult {
  shard: number;
  done: boolean;
  totals: RunTotals;
}

function stateOf(deps: ExportDeps, settings: ExportSettings): StateStore {
  return new StateStore(deps.store, settings.bucket, settings.prefix);
}

export async function planRun(deps: ExportDeps, settings: ExportSettings, request: ExportRequest): Promise<Plan> {
  const state = stateOf(deps, settings);
  const jobId = jobIdOf(request, settings.defaults);
  const resolved = await resolveNumbers(request, settings.defaults, deps.store, settings.manifestMaxBytes);
  const numbersDigest = digest(resolved.numbers);
  const progress = await freshProgress(state, jobId, request, numbersDigest, deps, settings);
  const shards = [...new Set([...byGroup(resolved.numbers).keys()].map(shardOfGroup))].sort((a, b) => a - b);
  await state.saveShardList(jobId, progress.runId, shards);
  return {
    jobId,
    runId: progress.runId,
    startedAt: progress.startedAt,
    window: progress.window,
    request: { phoneNumbers: request.phoneNumbers, manifest: request.manifest, beginTime: request.beginTime, endTime: request.endTime },
    numbersDigest,
    numbers: numberReport(resolved),
    shardList: { bucket: settings.bucket, key: state.runKey(jobId, progress.runId, 'shards') },
    shards,
  };
}

/** One invocation's worth of one shard; `done: false` tells the workflow to invoke again. */
export async function exportShard(deps: ExportDeps, settings: ExportSettings, plan: Plan, shard: number): Promise<ShardResult> {
  if (!Number.isInteger(shard) || shard < 0 || shard >= SHARDS) {
    throw new InvalidInput(`shard must be a whole number from 0 to ${SHARDS - 1}`, { field: 'shard' });
  }
  const state = stateOf(deps, settings);
  const resolved = await resolveNumbers(plan.request, settings.defaults, deps.store, settings.manifestMaxBytes);
  const groups = new Map([...byGroup(resolved.numbers)].filter(([group]) => shardOfGroup(group) === shard));
  const saved = await state.shardProgress(plan.jobId, plan.runId, shard);
  const progress: Progress = saved ?? {
    runId: plan.runId,
    startedAt: plan.startedAt,
    window: plan.window,
    numbersDigest: plan.numbersDigest,
    groupsDone: [],
    cursors: {},
    totals: emptyTotals(),
  };
  progress.totals.invocations += 1;
  const save = (): Promise<void> => state.saveShardProgress(plan.jobId, plan.runId, shard, progress);
  const { stopped } = await exportGroups(deps, settings, { progress, groups, numbersTotal: resolved.numbers.length, save });
  await save();
  // Still failing after the in-run retries: fail the task so the workflow's Retry backs off and
  // invokes it again; that invocation retries just these numbers.
  const failing = stopped ? undefined : transientError(progress.totals.failures);
  if (failing) throw failing;
  return { shard, done: !stopped, totals: progress.totals };
}

/** Adds up the shards, advances the checkpoint if every shard finished cleanly, writes the summary. */
export async function commitRun(
  deps: ExportDeps,
  settings: ExportSettings,
  plan: Plan,
  results: Array<ShardResult | { shard?: number; error: unknown }>,
): Promise<RunSummary> {
  const state = stateOf(deps, settings);
  const totals = emptyTotals();
  let finished = results.length === plan.shards.length;
  for (const result of results) {
    if (!('totals' in result) || !result.done) {
      finished = false;
      continue;
    }
    const t = result.totals;
    totals.numbersDone += t.numbersDone;
    totals.records += t.records;
    for (const [status, n] of Object.entries(t.recordsByStatus)) totals.recordsByStatus[status] = (totals.recordsByStatus[status] ?? 0) + n;
    totals.incompleteNumbers.push(...t.incompleteNumbers);
    totals.failures.push(...t.failures);
    totals.requests += t.requests;
    totals.retries += t.retries;
    totals.throttles += t.throttles;
    totals.objectsWritten += t.objectsWritten;
    totals.invocations += t.invocations;
  }
  const progress: Progress = { ...planProgress(plan), totals };
  const summary = await finishRun({ deps, state, jobId: plan.jobId, request: plan.request, progress, numbers: plan.numbers, finished });
  for (const shard of plan.shards) await state.clearShard(plan.jobId, plan.runId, shard);
  return summary;
}

function planProgress(plan: Plan): Omit<Progress, 'totals'> {
  return { runId: plan.runId, startedAt: plan.startedAt, window: plan.window, numbersDigest: plan.numbersDigest, groupsDone: [], cursors: {} };
}

export type WorkflowEvent =
  | { action: 'plan'; request: ExportRequest }
  | { action: 'shard'; plan: Plan; shard: number }
  | { action: 'commit'; plan: Plan; results: Array<ShardResult | { shard?: number; error: unknown }> };

/** Step Functions events carry an `action`; anything else is a plain export request. */
export function workflowEventOf(event: unknown): WorkflowEvent | undefined {
  if (typeof event !== 'object' || event === null || !('action' in event)) return undefined;
  const { action, ...rest } = event as Record<string, unknown>;
  if (action === 'plan') return { action, request: rest.request ?? {} };
  const plan = rest.plan as Plan | undefined;
  if (typeof plan !== 'object' || plan === null || typeof plan.jobId !== 'string' || typeof plan.runId !== 'string' || !Array.isArray(plan.shards)) {
    throw new InvalidInput('plan must be the output of the plan step', { field: 'plan' });
  }
  if (action === 'shard') return { action, plan, shard: rest.shard as number };
  if (action === 'commit') {
    if (!Array.isArray(rest.results)) throw new InvalidInput('results must be the Map output', { field: 'results' });
    return { action, plan, results: rest.results };
  }
  throw new InvalidInput("action must be 'plan', 'shard' or 'commit'", { field: 'action' });
}
