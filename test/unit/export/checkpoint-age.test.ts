/**
 * checkpointAgeSeconds: how far behind now the lake is, in every run summary (plain runs, each
 * invocation of one, and the workflow's commit), and the CheckpointAgeSeconds metric the alarm watches.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commitRun } from '#lib/export/commit.ts';
import { jobIdOf } from '#lib/export/job.ts';
import { planRun } from '#lib/export/planner.ts';
import { requestOf } from '#lib/export/request.ts';
import type { Checkpoint } from '#lib/export/job-store.ts';
import type { ExportDeps, RunSummary } from '#lib/export/types.ts';
import { exportShard } from '#lib/export/workflow.ts';
import { metrics, MetricUnit } from '#lib/observability/metrics.ts';
import { emitRunReport } from '#lib/observability/run-report.ts';
import { fakeClock, type FakeClock } from '../../support/fake-clock.ts';
import {
  BUCKET,
  DAY,
  HOUR,
  NOW,
  SCHEDULED_EVENT,
  deps,
  exportSummary,
  fakeClient,
  settings,
  stateKey,
  timeFor,
} from '../../support/export-fixtures.ts';
import { memoryStore, type MemoryStore } from '../../support/memory-store.ts';

const SCHEDULED = requestOf(SCHEDULED_EVENT);
const JOB = jobIdOf(SCHEDULED, settings().defaults);

/** The summary's own "now", whole seconds. */
const madeAt = (summary: RunSummary): number => Math.floor(Date.parse(summary.finishedAt) / 1000);

function checkpointEnd(store: MemoryStore): number | undefined {
  return store.json<Checkpoint>(BUCKET, stateKey(JOB, 'checkpoint'))?.endTime;
}

/** Deps on `clock`, which the fake Tencent moves on by each request's time. */
function clocked(store: MemoryStore, clock: FakeClock, overrides: Partial<ExportDeps> = {}): ExportDeps {
  return deps(store, fakeClient({ clock }), { now: clock.now, ...overrides });
}

describe('checkpointAgeSeconds', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is the time since the checkpoint once a scheduled run commits', async () => {
    const store = memoryStore();
    const clock = fakeClock(NOW * 1000);
    const summary = await exportSummary(clocked(store, clock), settings(), SCHEDULED);
    expect(summary).toMatchObject({ complete: true, checkpointAdvanced: true });
    expect(checkpointEnd(store)).toBe(NOW);
    // The window ends when the run was planned: its age is how long the run took, in whole seconds.
    expect(summary.checkpointAgeSeconds).toBe(madeAt(summary) - NOW);
    expect(summary.checkpointAgeSeconds).toBeLessThan(60);
  });

  it('grows with every invocation of a plan run that cannot advance the checkpoint, and falls back once it commits', async () => {
    const store = memoryStore();
    const clock = fakeClock(NOW * 1000);
    const s = settings({ groupConcurrency: 1 });
    await exportSummary(clocked(store, clock), s, SCHEDULED);
    expect(checkpointEnd(store)).toBe(NOW);

    // An hour later each invocation has time for one request only: the run stops short, hour after hour.
    const ages: number[] = [];
    let summary: RunSummary;
    do {
      clock.advance(HOUR * 1000);
      summary = await exportSummary(clocked(store, clock, { remainingMs: timeFor(clock, 1) }), s, SCHEDULED);
      if (!summary.finished) {
        expect(summary.checkpointAdvanced).toBe(false);
        expect(checkpointEnd(store)).toBe(NOW);
        expect(summary.checkpointAgeSeconds).toBe(madeAt(summary) - NOW);
        ages.push(summary.checkpointAgeSeconds);
      }
    } while (!summary.finished && ages.length < 40);
    expect(ages.length).toBeGreaterThanOrEqual(3);
    expect(ages[0]).toBeGreaterThanOrEqual(HOUR);
    for (let i = 1; i < ages.length; i += 1)
      expect(ages[i] as number).toBeGreaterThanOrEqual((ages[i - 1] as number) + HOUR);

    // Committed at last: the checkpoint is the end of the run's own window, planned an hour after NOW.
    expect(summary).toMatchObject({ finished: true, checkpointAdvanced: true });
    expect(checkpointEnd(store)).toBe(summary.window.endTime);
    expect(summary.window.endTime).toBeGreaterThanOrEqual(NOW + HOUR);
    expect(summary.checkpointAgeSeconds).toBe(madeAt(summary) - summary.window.endTime);
    expect(summary.checkpointAgeSeconds).toBeLessThan(ages.at(-1) as number);
  });

  it('counts a job with no checkpoint yet from the beginning of its first window', async () => {
    const store = memoryStore();
    const clock = fakeClock(NOW * 1000);
    const s = settings({ groupConcurrency: 1, window: { latenessSeconds: HOUR, initialLookbackSeconds: DAY } });
    const first = await exportSummary(clocked(store, clock, { remainingMs: timeFor(clock, 1) }), s, SCHEDULED);
    expect(first.finished).toBe(false);
    expect(checkpointEnd(store)).toBeUndefined();
    expect(first.window.beginTime).toBe(NOW - DAY);
    expect(first.checkpointAgeSeconds).toBe(madeAt(first) - (NOW - DAY));
  });

  it('grows with every workflow commit whose shards did not all finish', async () => {
    const store = memoryStore();
    const clock = fakeClock(NOW * 1000);
    const s = settings();
    const plan = await planRun(clocked(store, clock), s, SCHEDULED);
    for (const shard of plan.shards) expect((await exportShard(clocked(store, clock), s, plan, shard)).done).toBe(true);
    const committed = await commitRun(clocked(store, clock), s, plan);
    expect(committed).toMatchObject({ complete: true, checkpointAdvanced: true });
    expect(committed.checkpointAgeSeconds).toBe(madeAt(committed) - NOW);

    // Two more executions whose shards were rejected: their commits cannot move the checkpoint.
    const ages: number[] = [];
    for (let i = 0; i < 2; i += 1) {
      clock.advance(HOUR * 1000);
      const next = await planRun(clocked(store, clock), s, SCHEDULED);
      const summary = await commitRun(clocked(store, clock), s, next);
      expect(summary).toMatchObject({ finished: true, complete: false, checkpointAdvanced: false });
      expect(summary.checkpointAgeSeconds).toBe(madeAt(summary) - NOW);
      ages.push(summary.checkpointAgeSeconds);
    }
    expect(checkpointEnd(store)).toBe(NOW);
    expect(ages[0]).toBeGreaterThanOrEqual(HOUR);
    expect(ages[1]).toBeGreaterThanOrEqual((ages[0] as number) + HOUR);
  });

  it("is the age of its own window's end for a run that is not the scheduled job (an explicit window, the sweep)", async () => {
    const store = memoryStore();
    const explicit = await exportSummary(deps(store, fakeClient()), settings(), {
      beginTime: NOW - DAY,
      endTime: NOW - 2 * HOUR,
    });
    expect(explicit).toMatchObject({ complete: true, checkpointAdvanced: false, checkpointAgeSeconds: 2 * HOUR });
    const sweep = await exportSummary(deps(store, fakeClient()), settings(), { reconcile: true });
    expect(sweep).toMatchObject({ checkpointAdvanced: false, window: { endTime: NOW }, checkpointAgeSeconds: 0 });
    // Neither touched the scheduled job's checkpoint.
    expect(checkpointEnd(store)).toBeUndefined();
  });

  it("is emitted as the CheckpointAgeSeconds metric, in seconds, with the run's other metrics", async () => {
    const added = vi.spyOn(metrics, 'addMetric');
    const summary = await exportSummary(deps(memoryStore(), fakeClient()), settings(), {
      beginTime: NOW - DAY,
      endTime: NOW - 3 * HOUR,
    });
    emitRunReport(summary);
    expect(added).toHaveBeenCalledWith('CheckpointAgeSeconds', MetricUnit.Seconds, 3 * HOUR);
    expect(added.mock.calls.map(([name]) => name)).toEqual([
      'RecordsExported',
      'PendingWindows',
      'StuckNumbers',
      'RetentionGap',
      'CorruptObjects',
      'CheckpointAgeSeconds',
    ]);
  });
});
