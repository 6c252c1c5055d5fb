import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { isScheduled, jobIdOf } from './job.ts';
import { byGroup, GROUPS, shardOfGroup } from '#lib/lake/layout.ts';
import { numberReport, resolveNumbers } from './numbers.ts';
import type { ExportRequest } from './request.ts';
import { StateStore, type GroupWork } from './state.ts';
import type { ExportDeps, ExportSettings, PendingWindow, Plan } from './types.ts';
import { owedRebuilds } from './debts.ts';
import { readLedger, registerJob } from '#lib/lake/ledger.ts';
import { agedOut, windowOf } from './window.ts';

/** Reads and writes of small state objects in flight at once. */
const STATE_CONCURRENCY = 8;

/**
 * Fixes a run: its window, and each group's work frozen in S3 (the de-duplicated numbers of the list
 * and the windows the group still owed). Nothing after this reads the manifest again, so a list that
 * changes while the run goes on can neither skip a number nor shift a cursor.
 */
export async function planRun(deps: Pick<ExportDeps, 'store' | 'now'>, settings: ExportSettings, request: ExportRequest): Promise<Plan> {
  return (await planWork(deps, settings, request)).plan;
}

/** The plan, and the work it froze: the invocation that plans can go on without reading it back. */
export async function planWork(
  deps: Pick<ExportDeps, 'store' | 'now'>,
  settings: ExportSettings,
  request: ExportRequest,
): Promise<{ plan: Plan; works: Map<number, GroupWork> }> {
  const state = new StateStore(deps.store, settings.bucket, settings.prefix);
  const jobId = jobIdOf(request, settings.defaults);
  const resolved = await resolveNumbers(request, settings.defaults, deps.store, settings.manifestMaxBytes);
  const scheduled = isScheduled(request);
  const checkpoint = scheduled ? await state.checkpoint(jobId) : undefined;
  const now = deps.now();
  const runId = `${new Date(now).toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(4).toString('hex')}`;
  const window = windowOf(request, checkpoint?.endTime, Math.floor(now / 1000), settings.window);
  const aged = scheduled ? agedOut(checkpoint?.endTime, Math.floor(now / 1000)) : undefined;
  const numbers = byGroup(resolved.numbers);
  const limitReads = pLimit(STATE_CONCURRENCY);
  const [owed, ledger] = await Promise.all([
    Promise.all(Array.from({ length: GROUPS }, (_, g) => limitReads(() => state.pending(jobId, g)))),
    readLedger(deps.store, settings.bucket, settings.prefix),
  ]);
  await registerJob(deps.store, settings.bucket, settings.prefix, jobId, [...numbers.keys()], now);
  const rebuilds = owedRebuilds(ledger, jobId, numbers, runId, Math.floor(now / 1000));
  const work = new Map<number, GroupWork>();
  owed.forEach((pending: PendingWindow[], group) => {
    const list = numbers.get(group) ?? [];
    const all = [...pending, ...(rebuilds.byGroup.get(group) ?? [])];
    if (list.length > 0 || all.length > 0) work.set(group, { numbers: list, pending: all });
  });
  const groups = [...work.keys()];
  const shards = [...new Set(groups.map(shardOfGroup))].sort((a, b) => a - b);
  const plan: Plan = {
    jobId,
    runId,
    startedAt: new Date(now).toISOString(),
    window,
    ...(aged ? { agedOut: aged } : {}),
    scheduled,
    numbers: numberReport(resolved),
    groups,
    shards,
    shardList: { bucket: settings.bucket, key: state.runKey(jobId, runId, 'shards') },
    debts: rebuilds.debts,
  };
  await Promise.all([...work].map(([group, w]) => limitReads(() => state.saveWork(plan, group, w))));
  await state.saveShardList(plan);
  if (resolved.problems.length > plan.numbers.problems.length) await state.saveProblems(plan, resolved.problems);
  await state.savePlan(plan);
  return { plan, works: work };
}
