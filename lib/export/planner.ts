import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { isScheduled, jobIdOf } from './job.ts';
import { byGroup, GROUPS, shardOfGroup } from '#lib/lake/layout.ts';
import { numberReport, resolveNumbers } from './numbers.ts';
import type { ExportRequest } from './request.ts';
import { JobStore } from './job-store.ts';
import { RunStore, type GroupWork } from './run-store.ts';
import type { ExportDeps, ExportSettings, OwedWindow, Plan } from './types.ts';
import { owedRebuilds } from './owed-rebuilds.ts';
import { readLedger, registerJob } from '#lib/lake/ledger.ts';
import { agedOut, windowOf } from './window.ts';

/** Reads and writes of small state objects in flight at once. */
const STATE_CONCURRENCY = 8;

/**
 * Fixes a run: its window, and each group's work frozen in S3 (the de-duplicated numbers of the list
 * and the windows the group still owed). Nothing after this reads the manifest again, so a list that
 * changes while the run goes on can neither skip a number nor shift a cursor.
 */
export async function planRun(
  deps: Pick<ExportDeps, 'store' | 'now'>,
  settings: ExportSettings,
  request: ExportRequest,
): Promise<Plan> {
  return (await planWork(deps, settings, request)).plan;
}

/** The plan, and the work it froze: the invocation that plans can go on without reading it back. */
export async function planWork(
  deps: Pick<ExportDeps, 'store' | 'now'>,
  settings: ExportSettings,
  request: ExportRequest,
): Promise<{ plan: Plan; works: Map<number, GroupWork> }> {
  const runs = new RunStore(deps.store, settings.bucket, settings.prefix);
  const jobs = new JobStore(deps.store, settings.bucket, settings.prefix);
  const jobId = jobIdOf(request, settings.defaults);
  const resolved = await resolveNumbers(request, settings.defaults, deps.store, settings.manifestMaxBytes);
  const scheduled = isScheduled(request);
  const checkpoint = scheduled ? await jobs.checkpoint(jobId) : undefined;
  const now = deps.now();
  const nowSeconds = Math.floor(now / 1000);
  const runId = `${new Date(now).toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(4).toString('hex')}`;
  const aged = scheduled ? agedOut(checkpoint?.endTime, nowSeconds) : undefined;
  const { works, rebuilds } = await freezeWork(deps, settings, {
    jobs,
    jobId,
    runId,
    numbers: byGroup(resolved.numbers),
    now,
  });
  const groups = [...works.keys()];
  const plan: Plan = {
    jobId,
    runId,
    startedAt: new Date(now).toISOString(),
    window: windowOf(request, checkpoint?.endTime, nowSeconds, settings.window),
    ...(aged ? { agedOut: aged } : {}),
    scheduled,
    numbers: numberReport(resolved),
    groups,
    shards: [...new Set(groups.map(shardOfGroup))].sort((a, b) => a - b),
    shardList: { bucket: settings.bucket, key: runs.shardListKey({ jobId, runId }) },
    rebuilds,
  };
  const limitWrites = pLimit(STATE_CONCURRENCY);
  await Promise.all([...works].map(([group, w]) => limitWrites(() => runs.saveWork(plan, group, w))));
  await runs.saveShardList(plan);
  if (resolved.problems.length > plan.numbers.problems.length) await runs.saveProblems(plan, resolved.problems);
  await runs.savePlan(plan);
  return { plan, works };
}

interface Freezing {
  jobs: JobStore;
  jobId: string;
  runId: string;
  numbers: Map<number, string[]>;
  now: number;
}

/**
 * Each group's work: its numbers of the list, the windows the job owed for it, and the rebuilt days the
 * lake's ledger says it owes (the job is registered with its groups as the ledger is read).
 */
async function freezeWork(
  deps: Pick<ExportDeps, 'store'>,
  settings: ExportSettings,
  { jobs, jobId, runId, numbers, now }: Freezing,
) {
  const limitReads = pLimit(STATE_CONCURRENCY);
  const [owed, ledger] = await Promise.all([
    Promise.all(Array.from({ length: GROUPS }, (_, g) => limitReads(() => jobs.owed(jobId, g)))),
    readLedger(deps.store, settings.bucket, settings.prefix),
  ]);
  await registerJob(deps.store, settings.bucket, settings.prefix, jobId, [...numbers.keys()], now);
  const rebuilds = owedRebuilds(ledger, jobId, numbers, runId, Math.floor(now / 1000));
  const works = new Map<number, GroupWork>();
  owed.forEach((windows: OwedWindow[], group) => {
    const list = numbers.get(group) ?? [];
    const all = [...windows, ...(rebuilds.byGroup.get(group) ?? [])];
    if (list.length > 0 || all.length > 0) works.set(group, { numbers: list, owed: all });
  });
  return { works, rebuilds: rebuilds.rebuilds };
}
