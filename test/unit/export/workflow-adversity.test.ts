/**
 * The export workflow when an execution fails, overlaps or is replayed (plan → shard × n → commit,
 * driven through the export's direct events exactly as the state machines drive them), over the memory
 * store with S3's conditional writes and a fake Tencent.
 */
import { describe, expect, it } from 'vitest';
import { handleExportEvent, type ExportEventDeps } from '#lib/export/handle-event.ts';
import { jobIdOf } from '#lib/export/job.ts';
import { groupOf, objectKey, shardOfGroup } from '#lib/lake/layout.ts';
import type { ExportSettings, OwedWindow, Plan, RunSummary } from '#lib/export/types.ts';
import type { ShardResult } from '#lib/export/workflow.ts';
import { UpstreamUnavailable } from '#lib/errors.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { utcDay } from '#lib/utc-day.ts';
import {
  expectHolds,
  inWindow,
  numbersOf,
  pendingOf,
  receipts,
  sameGroup,
  settings,
  tencent,
} from '../../support/adversity.ts';
import { BUCKET, DAY, HOUR, NOW, PREFIX, deps } from '../../support/export-fixtures.ts';
import { memoryStore, type MemoryStore } from '../../support/memory-store.ts';

/** The export Lambda as the state machines call it: one direct event, one answer. */
function workflowOf(
  lake: MemoryStore,
  data: Map<string, PullSmsSendStatus[]>,
  s: ExportSettings,
  clock: () => number,
  fail?: (n: string) => boolean,
) {
  const client = tencent(data, {
    fail: (request) =>
      fail?.(request.phoneNumber) ? new UpstreamUnavailable('down', { code: 'InternalError' }) : undefined,
  });
  const d: ExportEventDeps = { ...deps(lake, client, { now: clock }), reportRun: () => undefined };
  const call = <T>(event: unknown): Promise<T> => handleExportEvent(d, s, event) as Promise<T>;
  return {
    plan: (request: object = {}) => call<Plan>({ action: 'plan', request }),
    shard: async (plan: Plan, shard: number): Promise<ShardResult> => {
      for (let i = 0; i < 20; i++) {
        try {
          const result = await call<ShardResult>({ action: 'shard', plan, shard });
          if (result.done) return result;
        } catch (error) {
          // The workflow's Retry gives a shard whose numbers still fail another invocation, then Catch.
          if (!(error instanceof UpstreamUnavailable)) throw error;
          if (i >= 3) return { shard, error: { Error: error.name, Cause: error.message } } as unknown as ShardResult;
        }
      }
      throw new Error('the shard never finished');
    },
    commit: (plan: Plan, results: unknown[]) => call<RunSummary>({ action: 'commit', plan, results }),
    async run(request: object = {}): Promise<RunSummary> {
      const plan = await this.plan(request);
      const results = [];
      for (const shard of plan.shards) results.push(await this.shard(plan, shard));
      return this.commit(plan, results);
    },
  };
}

function debtsOf(lake: MemoryStore): string[] {
  return lake.keys(BUCKET, `${PREFIX}/_state/`).filter((k) => k.includes('/rebuilds/'));
}

function runStateOf(lake: MemoryStore): string[] {
  return lake.keys(BUCKET, `${PREFIX}/_state/`).filter((k) => k.includes('/runs/'));
}

describe('the export workflow loses nothing when a run fails, overlaps or is replayed', () => {
  it('rebuild debt outlives a run that never commits, and reaches every job whose numbers share the group', async () => {
    const lake = memoryStore();
    const [a, b, c, other] = sameGroup(4) as [string, string, string, string];
    // Receipts all through NOW's UTC day (15:06 Z) and the hours to come, so every run merges into its object.
    const hour = Math.floor(NOW / DAY) * DAY + HOUR;
    const data = new Map([a, b, c, other].map((n) => [n, receipts(n, 60, hour, NOW + 3 * HOUR)]));
    let clock = NOW * 1000;
    const now = (): number => clock;
    const first = settings({ defaults: { phoneNumbers: [a, b, c] } });
    const second = settings({ defaults: { phoneNumbers: [other] } });
    const job1 = workflowOf(lake, data, first, now);
    const job2 = workflowOf(lake, data, second, now);
    expect(await job1.run()).toMatchObject({ complete: true });
    expect(await job2.run()).toMatchObject({ complete: true });
    // The day object of the group is cut in half (a writer killed mid-upload, a bad copy).
    const key = objectKey(PREFIX, utcDay(hour), groupOf(a));
    const whole = lake.get(BUCKET, key) as Buffer;
    lake.put(BUCKET, key, whole.subarray(0, Math.floor(whole.length / 2)));
    // A shard meets it, quarantines it and rebuilds it; the execution then fails: no commit.
    clock += HOUR * 1000;
    const doomed = await job1.plan();
    for (const shard of doomed.shards) await job1.shard(doomed, shard);
    expect(lake.keys(BUCKET, `${PREFIX}/_quarantine/`).length).toBeGreaterThan(0);
    for (let i = 0; i < 2; i++) {
      clock += HOUR * 1000;
      expect(await job1.run()).toMatchObject({ finished: true });
    }
    clock += HOUR * 1000;
    await job2.run();
    const all = [a, b, c, other];
    expectHolds(
      lake,
      all,
      all.flatMap((n) => inWindow(data.get(n) ?? [], { beginTime: NOW - DAY, endTime: clock / 1000 })),
    );
    // Both jobs have re-pulled the day: the debt is paid and gone.
    expect(debtsOf(lake)).toEqual([]);
  });

  it('a day that aged past Tencent’s reach before a job could re-pull it is a reported gap naming the object', async () => {
    const lake = memoryStore();
    const [a] = sameGroup(1) as [string];
    const hour = Math.floor(NOW / DAY) * DAY + HOUR;
    const data = new Map([[a, receipts(a, 30, hour, NOW)]]);
    let clock = NOW * 1000;
    const job = workflowOf(lake, data, settings({ defaults: { phoneNumbers: [a] } }), () => clock);
    await job.run();
    const key = objectKey(PREFIX, utcDay(hour), groupOf(a));
    lake.put(BUCKET, key, Buffer.from('garbage'));
    const doomed = await job.plan();
    for (const shard of doomed.shards) await job.shard(doomed, shard);
    clock += 8 * DAY * 1000;
    const late = await job.run();
    expect(late.complete).toBe(false);
    expect(late.lostObjects).toEqual([key]);
  });

  it('a job first planned after a rebuild owes nothing of it: its first run is complete, and the debt still settles', async () => {
    const lake = memoryStore();
    const [a, late] = sameGroup(2) as [string, string];
    const hour = Math.floor(NOW / DAY) * DAY + HOUR;
    const data = new Map([a, late].map((n) => [n, receipts(n, 30, hour, NOW)]));
    let clock = NOW * 1000;
    const job = workflowOf(lake, data, settings({ defaults: { phoneNumbers: [a] } }), () => clock);
    await job.run();
    lake.put(BUCKET, objectKey(PREFIX, utcDay(hour), groupOf(a)), Buffer.from('garbage'));
    expect(await job.run()).toMatchObject({ finished: true });
    clock += 8 * DAY * 1000;
    // A new list sharing the group, for a window that never touched the rebuilt day (the day aged out long ago).
    const newcomer = workflowOf(lake, data, settings({ defaults: { phoneNumbers: [late] } }), () => clock);
    const first = await newcomer.run({ beginTime: NOW + 7 * DAY, endTime: NOW + 8 * DAY - 60 });
    expect(first).toMatchObject({ complete: true, lostObjects: [] });
    expect(await job.run()).toMatchObject({ finished: true });
    expect(debtsOf(lake)).toEqual([]);
    expect(JSON.parse(lake.get(BUCKET, `${PREFIX}/_lake/ledger.json`)?.toString() ?? '{}').rebuilds).toEqual([]);
  });

  it('a commit that the run’s own progress contradicts is refused naming results, clears nothing, and a true commit then finishes it exactly', async () => {
    const lake = memoryStore();
    const numbers = numbersOf(40, 9);
    const data = new Map(numbers.map((n) => [n, receipts(n, 5, NOW - 20 * HOUR, NOW - HOUR)]));
    const s = settings({ defaults: { phoneNumbers: numbers } });
    const job = workflowOf(lake, data, s, () => NOW * 1000);
    const plan = await job.plan({ beginTime: NOW - DAY, endTime: NOW });
    const [done, ...rest] = plan.shards as [number, ...number[]];
    await job.shard(plan, done);
    const forged = plan.shards.map((shard) => ({ shard, done: true }));
    const refused = await job.commit(plan, forged).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'InvalidInput', field: 'results' });
    expect(lake.keys(BUCKET, `${PREFIX}/_runs/`)).toEqual([]);
    expect(runStateOf(lake).length).toBeGreaterThan(0);
    const results = [{ shard: done, done: true }];
    for (const shard of rest) {
      const result = await job.shard(plan, shard);
      expect(result).toEqual({ shard, done: true });
      results.push(result);
    }
    expect(await job.commit(plan, results)).toMatchObject({ complete: true, numbersDone: numbers.length });
    expectHolds(
      lake,
      numbers,
      numbers.flatMap((n) => inWindow(data.get(n) ?? [], { beginTime: NOW - DAY, endTime: NOW })),
    );
  });

  it('a shard the workflow caught (refused) is recorded so: its groups’ windows are owed, and the next run pays them', async () => {
    const lake = memoryStore();
    const numbers = numbersOf(40, 11);
    const data = new Map(numbers.map((n) => [n, receipts(n, 5, NOW - 20 * HOUR, NOW - HOUR)]));
    const s = settings({ defaults: { phoneNumbers: numbers } });
    let clock = NOW * 1000;
    const job = workflowOf(lake, data, s, () => clock);
    const plan = await job.plan();
    const [caught, ...rest] = plan.shards as [number, ...number[]];
    const results: unknown[] = [{ shard: caught, error: { Error: 'Sandbox.Timedout', Cause: 'Task timed out' } }];
    for (const shard of rest) results.push(await job.shard(plan, shard));
    expect(await job.commit(plan, results)).toMatchObject({ complete: false });
    const owedBy = new Set(pendingOf(lake, plan.jobId).map((p) => p.phoneNumber));
    expect(numbers.filter((n) => shardOfGroup(groupOf(n)) === caught).every((n) => owedBy.has(n))).toBe(true);
    clock += HOUR * 1000;
    expect(await job.run()).toMatchObject({ complete: true });
    expectHolds(
      lake,
      numbers,
      numbers.flatMap((n) => inWindow(data.get(n) ?? [], { beginTime: NOW - 2 * DAY, endTime: NOW })),
    );
  });

  it('steps replayed on a committed run are no-ops, wherever its clean-up was cut off', async () => {
    const lake = memoryStore();
    const numbers = numbersOf(30, 13);
    const data = new Map(numbers.map((n) => [n, receipts(n, 4, NOW - 20 * HOUR, NOW - HOUR)]));
    const job = workflowOf(lake, data, settings({ defaults: { phoneNumbers: numbers } }), () => NOW * 1000);
    const plan = await job.plan();
    const results = [];
    for (const shard of plan.shards) results.push(await job.shard(plan, shard));
    const before = new Map(lake.objects);
    const committed = await job.commit(plan, results);
    const deleted = [...before.keys()].filter((k) => !lake.objects.has(k));
    expect(deleted.length).toBeGreaterThan(3);
    const lakeBytes = new Map([...lake.objects].filter(([k]) => k.includes('/statuses/')));
    const restorations = [
      deleted,
      deleted.slice(0, Math.ceil(deleted.length / 2)),
      deleted.slice(Math.ceil(deleted.length / 2)),
      ...deleted.map((k) => [k]),
    ];
    for (const restored of restorations) {
      for (const k of restored) lake.objects.set(k, before.get(k) as never);
      for (const shard of plan.shards) {
        expect(
          await handleExportEvent(
            { ...deps(lake, tencent(data)), reportRun: () => undefined },
            settings({ defaults: { phoneNumbers: numbers } }),
            { action: 'shard', plan, shard },
          ),
        ).toEqual({ shard, done: true });
      }
      expect(await job.commit(plan, results)).toEqual(committed);
      expect(runStateOf(lake)).toEqual([]);
    }
    expect(new Map([...lake.objects].filter(([k]) => k.includes('/statuses/')))).toEqual(lakeBytes);
  });

  it.each(['the earlier run commits first', 'the later run commits first'])(
    'two overlapping runs of one job (%s): an honest checkpointAdvanced, each owed window kept once',
    async (order) => {
      const lake = memoryStore();
      const numbers = numbersOf(6, 17);
      const failing = numbers[0] as string;
      const data = new Map(numbers.map((n) => [n, receipts(n, 5, NOW - 20 * HOUR, NOW - HOUR)]));
      const s = settings({ defaults: { phoneNumbers: numbers } });
      let clock = NOW * 1000;
      const jobFailing = workflowOf(
        lake,
        data,
        s,
        () => clock,
        (n) => n === failing,
      );
      const firstRun = await jobFailing.run();
      expect(firstRun).toMatchObject({ complete: false });
      const owedBefore = pendingOf(lake, jobIdOf({}, s.defaults));
      expect(owedBefore).toHaveLength(1);
      clock += HOUR * 1000;
      const early = await jobFailing.plan();
      clock += 10 * 60 * 1000;
      const late = await jobFailing.plan();
      const finish = async (plan: Plan) => {
        const results = [];
        for (const shard of plan.shards) results.push(await jobFailing.shard(plan, shard));
        return jobFailing.commit(plan, results);
      };
      const [first, second] = order === 'the earlier run commits first' ? [early, late] : [late, early];
      const one = await finish(first);
      const two = await finish(second);
      const moved = order === 'the earlier run commits first' ? [true, true] : [true, false];
      expect([one.checkpointAdvanced, two.checkpointAdvanced]).toEqual(moved);
      // Both runs consumed the owed window and owe it again, each with its own window: one entry covers all of it.
      const owed = pendingOf(lake, jobIdOf({}, s.defaults)).filter((p: OwedWindow) => p.phoneNumber === failing);
      expect(owed).toHaveLength(1);
      expect(owed[0]).toMatchObject({
        beginTime: owedBefore[0]?.beginTime,
        endTime: Math.max(early.window.endTime, late.window.endTime),
      });
    },
  );
});
