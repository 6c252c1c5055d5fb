import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { jobIdOf } from '#lib/export/job.ts';
import { groupOf, objectKey, shardOfGroup } from '#lib/lake/layout.ts';
import { utcDay } from '#lib/utc-day.ts';
import { runExport } from '#lib/export/run.ts';
import type { ListingStore } from '#lib/lake/store.ts';
import type { ExportDeps, RunSummary } from '#lib/export/types.ts';
import { commitRun } from '#lib/export/commit.ts';
import { planRun } from '#lib/export/planner.ts';
import { exportShard } from '#lib/export/workflow.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { BUCKET, DAY, HOUR, NOW, PREFIX, deps, timeFor } from '../../support/export-fixtures.ts';
import { fakeClock } from '../../support/fake-clock.ts';
import { memoryStore, type MemoryStore } from '../../support/memory-store.ts';
import {
  exported,
  expectHolds,
  inWindow,
  ledgerOf,
  numbersOf,
  pendingOf,
  receipts,
  runToCommit,
  sameGroup,
  settings,
  tencent,
} from '../../support/adversity.ts';

describe('the lake under adversity', () => {
  describe('Tencent’s 7 days: what ages out is a reported gap', () => {
    it('a window that ages past Tencent’s 7 days mid-run loses only what aged: a reported gap, never rejected numbers', async () => {
      const numbers = sameGroup(6);
      const data = new Map(
        numbers.map((n) => [
          n,
          receipts(n, 30, NOW - 7 * DAY + 300, NOW - 7 * DAY + 1800).concat(receipts(n, 10, NOW - DAY, NOW)),
        ]),
      );
      let clock = NOW * 1000;
      const now = (): number => clock;
      // The first invocation has time for one request past its reserve: one number, then it stops.
      const invocation = fakeClock();
      const client = tencent(data, { now, clamp: true, clock: invocation });
      const s = settings({
        window: { latenessSeconds: HOUR, initialLookbackSeconds: 7 * DAY },
        chunkSize: 1,
        groupConcurrency: 1,
      });
      const lake = memoryStore();
      const first = await runExport(deps(lake, client, { now, remainingMs: timeFor(invocation, 1, s.reserveMs) }), s, {
        phoneNumbers: numbers,
      });
      expect(first.summary.complete).toBe(false);
      const early = new Set(client.calls.map((c) => c.phoneNumber));
      expect(early.size).toBe(1);
      clock += 10 * 60 * 1000;
      const summary = await runToCommit(deps(lake, client, { now }), s, { phoneNumbers: numbers });
      expect(summary).toMatchObject({
        failureCount: 0,
        failures: [],
        checkpointAdvanced: true,
        complete: false,
        gapCount: 5,
        retentionGapSeconds: 5 * 600,
      });
      expect(new Set(summary.gapNumbers)).toEqual(new Set(numbers.filter((n) => !early.has(n))));
      // Tencent refused nothing: every request it got lay inside its 7 days.
      for (const call of client.calls) expect(call.beginTime).toBeGreaterThanOrEqual(NOW - 7 * DAY);
      const edge = NOW - 7 * DAY + 900;
      const want = numbers.flatMap((n) =>
        inWindow(data.get(n) ?? [], { beginTime: early.has(n) ? summary.window.beginTime : edge, endTime: NOW }),
      );
      expectHolds(lake, numbers, want);
    });

    it('an incomplete number’s window stays owed run after run, until it ages out as a reported gap', async () => {
      const lake = memoryStore();
      const saturated = '+8613600136000';
      const at = NOW - 5 * HOUR;
      const data = new Map([[saturated, receipts(saturated, 120, at, at)]]);
      let clock = NOW * 1000;
      const now = (): number => clock;
      const s = settings({ defaults: { phoneNumbers: [saturated] } });
      const first = await runToCommit(deps(lake, tencent(data, { now, clamp: true }), { now }), s, {});
      expect(first).toMatchObject({
        complete: false,
        checkpointAdvanced: true,
        incompleteCount: 1,
        incompleteNumbers: [saturated],
        pendingWindows: 1,
      });
      expect(pendingOf(lake, first.jobId)).toEqual([
        expect.objectContaining({ phoneNumber: saturated, beginTime: at, endTime: at, reason: 'Incomplete', runs: 1 }),
      ]);

      clock += HOUR * 1000;
      const client = tencent(data, { now, clamp: true });
      const second = await runToCommit(deps(lake, client, { now }), s, {});
      expect(
        client.calls.some((c) => c.beginTime === at && c.endTime === at),
        'the owed second is pulled again',
      ).toBe(true);
      expect(second).toMatchObject({ complete: false, pendingWindows: 1 });
      expect(pendingOf(lake, first.jobId)).toEqual([expect.objectContaining({ beginTime: at, endTime: at, runs: 2 })]);

      clock += 8 * DAY * 1000;
      const aged = await runToCommit(deps(lake, tencent(data, { now, clamp: true }), { now }), s, {});
      // Two gaps: the owed second, and the days the job's checkpoint fell behind Tencent's 7 days.
      expect(aged).toMatchObject({
        pendingWindows: 0,
        gapCount: 2,
        gapNumbers: [saturated],
        complete: false,
        agedOut: { endTime: aged.window.beginTime - 1 },
      });
      expect(aged.retentionGapSeconds).toBeGreaterThanOrEqual(1);
      expect(pendingOf(lake, first.jobId)).toEqual([]);
    });

    it('a checkpoint older than Tencent’s 7 days (the export down for 8 days): what aged out is a reported gap, never complete', async () => {
      const lake = memoryStore();
      const numbers = sameGroup(3);
      const data = new Map(numbers.map((n) => [n, receipts(n, 20, NOW - 7 * DAY - 12 * HOUR, NOW - 6 * DAY)]));
      const s = settings({ defaults: { phoneNumbers: numbers } });
      const now = (): number => NOW * 1000;
      const jobId = jobIdOf({}, s.defaults);
      lake.put(
        BUCKET,
        `${PREFIX}/_state/${jobId}/checkpoint.json`,
        JSON.stringify({ endTime: NOW - 8 * DAY, runId: 'down', updatedAt: 'then' }),
      );
      const summary = await runToCommit(deps(lake, tencent(data, { now, clamp: true }), { now }), s, {});
      const edge = summary.window.beginTime;
      expect(edge).toBeGreaterThan(NOW - 7 * DAY);
      expect(summary).toMatchObject({
        finished: true,
        complete: false,
        checkpointAdvanced: true,
        agedOut: { beginTime: NOW - 8 * DAY, endTime: edge - 1 },
        gapCount: 3,
        retentionGapSeconds: 3 * (edge - (NOW - 8 * DAY)),
      });
      expectHolds(
        lake,
        numbers,
        numbers.flatMap((n) => inWindow(data.get(n) ?? [], { beginTime: edge, endTime: NOW })),
      );
    });
  });

  describe('frozen work: a run reads its plan, never the list again', () => {
    it('a workflow’s shards read the plan’s frozen list, not the manifest: a list cut mid-run loses no number', async () => {
      const lake = memoryStore();
      const four = sameGroup(4);
      const data = new Map(four.map((n) => [n, receipts(n, 8, NOW - DAY, NOW - HOUR)]));
      lake.put(BUCKET, 'manifests/list.txt', four.join('\n'));
      const request = { manifest: `s3://${BUCKET}/manifests/list.txt`, beginTime: NOW - DAY, endTime: NOW };
      const s = settings({ chunkSize: 1 });
      const plan = await planRun(deps(lake, tencent(data)), s, request);
      expect(JSON.stringify(plan)).not.toContain(four[0]);
      const shard = shardOfGroup(groupOf(four[0] as string));
      expect(plan.shards).toEqual([shard]);
      // Each shard invocation has time for one request past its reserve: one number each.
      const shortOfTime = (): ExportDeps => {
        const invocation = fakeClock();
        return deps(lake, tencent(data, { clock: invocation }), { remainingMs: timeFor(invocation, 1, s.reserveMs) });
      };
      const first = await exportShard(shortOfTime(), s, plan, shard);
      expect(first.done).toBe(false);
      lake.put(BUCKET, 'manifests/list.txt', four.slice(1).join('\n'));
      const readsBefore = lake.reads.length;
      for (let i = 0; i < 10 && !(await exportShard(shortOfTime(), s, plan, shard)).done; i++);
      const summary = await commitRun(deps(lake, tencent(data)), s, plan);
      expect(summary).toMatchObject({ complete: true, numbersTotal: 4, numbersDone: 4 });
      expect(lake.reads.slice(readsBefore).filter((k) => k.startsWith('manifests/'))).toEqual([]);
      expectHolds(
        lake,
        four,
        four.flatMap((n) => data.get(n) ?? []),
      );
    });
  });

  describe('writers at once', () => {
    it.each([
      ['conditional writes (S3)', true],
      ['unconditional writes', false],
    ])('two exports at once into one prefix, sharing groups and days: %s', async (_name, conditional) => {
      const lake = memoryStore();
      const racing = racingStore(lake, conditional);
      // Both lists in one group: every chunk of either writer merges into the same day objects.
      const [a, b] = [sameGroup(24).slice(0, 12), sameGroup(24).slice(12)] as [string[], string[]];
      const all = [...a, ...b];
      const data = new Map(all.map((n) => [n, receipts(n, 6, NOW - 2 * DAY, NOW)]));
      const s = settings({ chunkSize: 2, concurrency: 8, groupConcurrency: 4 });
      const window = { beginTime: NOW - 2 * DAY, endTime: NOW };
      const [one, two] = await Promise.all([
        runToCommit(deps(racing, tencent(data)), s, { phoneNumbers: a, ...window }),
        runToCommit(deps(racing, tencent(data)), s, { phoneNumbers: b, ...window }),
      ]);
      expect(one.complete && two.complete).toBe(true);
      const want = all.flatMap((n) => data.get(n) ?? []);
      if (conditional) expectHolds(lake, all, want);
      else
        expect(exported(lake).length, 'without conditions one writer overwrites the other').toBeLessThan(want.length);
    });

    it('two invocations of one scheduled job at once (a retried event beside the first): neither fails, one commits, no state is left', async () => {
      for (const lag of [0, 1, 3, 10]) {
        const lake = memoryStore();
        const numbers = sameGroup(12);
        const data = new Map(numbers.map((n) => [n, receipts(n, 10, NOW - DAY + 60, NOW)]));
        const s = settings({ defaults: { phoneNumbers: numbers }, chunkSize: 2 });
        // The second one joins the first one's run, a little slower at every read and write.
        const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, lag));
        const slow: ListingStore = {
          list: lake.list,
          read: async (bucket, key) => ((object) => pause().then(() => object))(await lake.read(bucket, key)),
          write: async (bucket, key, body, options) => pause().then(() => lake.write(bucket, key, body, options)),
          delete: (bucket, key) => lake.delete(bucket, key),
        };
        const [first, second] = await Promise.all([
          runExport(deps(lake, tencent(data)), s, {}),
          pause().then(() => runExport(deps(slow, tencent(data)), s, {})),
        ]);
        // Joined, the second left the run to the first (answering it unfinished, or committed if it was by then);
        // too late to join, it ran on its own after it.
        const committed = lake
          .keys(BUCKET, `${PREFIX}/_runs/`)
          .map((k) => lake.json<RunSummary>(BUCKET, k) as RunSummary);
        expect(
          committed.find((c) => c.runId === first.summary.runId),
          `lag ${lag}`,
        ).toMatchObject({ finished: true, complete: true, records: 120 });
        expect(
          committed.every((c) => c.finished && c.complete),
          `lag ${lag}`,
        ).toBe(true);
        expect(committed.map((c) => c.runId).sort(), `lag ${lag}`).toEqual(
          [...new Set([first.summary.runId, second.summary.runId])].sort(),
        );
        const stands = committed.find((c) => c.runId === second.summary.runId) as RunSummary;
        expect(second.summary, `lag ${lag}`).toEqual(
          second.summary.finished
            ? stands
            : expect.objectContaining({ runId: first.summary.runId, finished: false, complete: false }),
        );
        expect(
          lake.keys(BUCKET, `${PREFIX}/_state/`).filter((k) => !k.endsWith('/checkpoint.json')),
          `lag ${lag}`,
        ).toEqual([]);
        expectHolds(
          lake,
          numbers,
          numbers.flatMap((n) => data.get(n) ?? []),
        );
      }
    });
  });

  describe('bounded state: payloads and state objects stay small', () => {
    it('5,000 refused numbers in a 20,000-number workflow: every payload and state object stays small', async () => {
      const lake = memoryStore();
      const numbers = Array.from({ length: 20_000 }, (_, i) => `+86150${String(10_000_000 + i * 4_999).slice(-8)}`);
      const refused = new Set(numbers.filter((_, i) => i % 4 === 0));
      lake.put(BUCKET, 'manifests/big.txt', numbers.join('\n'));
      const data = new Map(numbers.filter((_, i) => i % 50 === 1).map((n) => [n, receipts(n, 2, NOW - DAY, NOW)]));
      const client = tencent(data, { optedOut: (n) => refused.has(n) });
      const s = settings({ chunkSize: 500, concurrency: 32, groupConcurrency: 4 });
      const d = deps(lake, client);
      const plan = await planRun(d, s, { manifest: `s3://${BUCKET}/manifests/big.txt` });
      const LIMIT = 256 * 1024;
      expect(JSON.stringify(plan).length).toBeLessThan(16 * 1024);
      const results = await Promise.all(plan.shards.map((shard) => exportShard(d, s, plan, shard)));
      const biggestState = Math.max(
        ...lake.keys(BUCKET, `${PREFIX}/_state/`).map((k) => lake.get(BUCKET, k)?.length ?? 0),
      );
      expect(biggestState, 'largest state object').toBeLessThan(LIMIT);
      const summary = await commitRun(d, s, plan);
      // What Step Functions holds after the Map and after the commit.
      expect(JSON.stringify({ plan, results }).length).toBeLessThan(LIMIT);
      expect(JSON.stringify(summary).length).toBeLessThan(LIMIT);
      expect(summary).toMatchObject({
        numbersTotal: 20_000,
        numbersDone: 20_000,
        failureCount: 5_000,
        complete: true,
        checkpointAdvanced: true,
      });
      expect(summary.failures.length).toBeLessThanOrEqual(20);
      expectHolds(
        lake,
        numbers,
        numbers.flatMap((n) => data.get(n) ?? []),
      );
    }, 60_000);
  });

  describe('corrupt and unreadable objects', () => {
    it('a corrupt or truncated lake object is moved aside, rebuilt, and named in the summary; the next run restores it from Tencent', async () => {
      const lake = memoryStore();
      const numbers = sameGroup(3);
      const data = new Map(numbers.map((n) => [n, receipts(n, 20, NOW - 20 * HOUR, NOW - HOUR)]));
      const days = [
        ...new Set(numbers.flatMap((n) => data.get(n) ?? []).map((r) => utcDay(r.UserReceiveTime as number))),
      ];
      const group = groupOf(numbers[0] as string);
      // An earlier export wrote these objects; then one was overwritten with garbage, another truncated.
      const s = settings({ defaults: { phoneNumbers: numbers } });
      let clock = NOW * 1000;
      const now = (): number => clock;
      await runToCommit(deps(lake, tencent(data), { now }), s, { beginTime: NOW - DAY, endTime: NOW });
      const garbage = Buffer.concat([gzipSync('{"serialNo":"x"').subarray(0, 10), Buffer.from('not gzip at all')]);
      const [garbled, truncated] = days.map((day) => objectKey(PREFIX, day, group));
      lake.put(BUCKET, garbled as string, garbage);
      if (truncated) lake.put(BUCKET, truncated, (lake.get(BUCKET, truncated) as Buffer).subarray(0, 40));
      const summary = await runToCommit(deps(lake, tencent(data), { now }), s, {});
      expect(summary.corruptObjects.map((c) => c.key).sort()).toEqual([garbled, truncated].filter(Boolean).sort());
      for (const c of summary.corruptObjects) {
        expect(c.movedTo).toMatch(new RegExp(`^${PREFIX}/_quarantine/statuses/`));
        expect(c.error).toMatch(/corrupt/);
      }
      expect(lake.get(BUCKET, summary.corruptObjects.find((c) => c.key === garbled)?.movedTo as string)).toEqual(
        garbage,
      );
      expect(summary).toMatchObject({ complete: false, checkpointAdvanced: true });
      expect(pendingOf(lake, summary.jobId).every((p) => p.reason === 'CorruptObject')).toBe(true);
      clock += HOUR * 1000;
      const rebuilt = await runToCommit(deps(lake, tencent(data), { now }), s, {});
      expect(rebuilt).toMatchObject({ complete: true, pendingWindows: 0, corruptObjects: [] });
      expectHolds(
        lake,
        numbers,
        numbers.flatMap((n) => data.get(n) ?? []),
      );
    });

    it('a corrupt object is rebuilt for every number whose lines could still be read from it, not only the numbers listed now', async () => {
      const lake = memoryStore();
      const all = sameGroup(4);
      const kept = all.slice(0, 2);
      // Every receipt in one hour of one UTC day: one object holds them all.
      const hour = Math.floor((NOW - 20 * HOUR) / HOUR) * HOUR;
      const data = new Map(all.map((n) => [n, receipts(n, 8, hour, hour + HOUR - 1)]));
      let clock = NOW * 1000;
      const now = (): number => clock;
      await runToCommit(deps(lake, tencent(data), { now }), settings({ defaults: { phoneNumbers: all } }), {});
      const key = objectKey(PREFIX, utcDay(hour), groupOf(all[0] as string));
      // Truncated: the lines of its first part can still be read; the list then drops two numbers.
      const whole = lake.get(BUCKET, key) as Buffer;
      lake.put(BUCKET, key, whole.subarray(0, Math.floor(whole.length * 0.9)));
      for (const n of kept)
        (data.get(n) as PullSmsSendStatus[]).push(
          ...receipts(n, 1, hour + 30 * 60, hour + 30 * 60).map((r) => ({ ...r, SerialNo: `${r.SerialNo}-new` })),
        );
      const s = settings({ defaults: { phoneNumbers: kept } });
      clock += HOUR * 1000;
      const detecting = await runToCommit(deps(lake, tencent(data), { now }), s, {});
      expect(detecting.corruptObjects.map((c) => c.key)).toEqual([key]);
      // The lake's ledger owes the day to the numbers listed, and to every number read from the object.
      const debt = ledgerOf(lake).rebuilds.find((d) => d.key === key);
      expect(new Set([...kept, ...(debt?.numbersRead ?? [])])).toEqual(new Set(all));
      clock += HOUR * 1000;
      const rebuilt = await runToCommit(deps(lake, tencent(data), { now }), s, {});
      expect(rebuilt).toMatchObject({ complete: true, pendingWindows: 0 });
      expectHolds(
        lake,
        all,
        all.flatMap((n) => data.get(n) ?? []),
      );
    });

    it('a stored object whose stream resets mid-read fails the invocation with that error (no crash); the next one resumes exact', async () => {
      const lake = memoryStore();
      const numbers = sameGroup(3);
      const data = new Map(numbers.map((n) => [n, receipts(n, 20, NOW - 20 * HOUR, NOW - HOUR)]));
      const request = { phoneNumbers: numbers, beginTime: NOW - DAY, endTime: NOW };
      await runToCommit(deps(lake, tencent(data)), settings(), request);
      let resets = 1;
      const resetting: ListingStore = {
        ...lake,
        async read(bucket, key) {
          const object = await lake.read(bucket, key);
          if (!object || !key.includes('/statuses/') || resets-- <= 0) return object;
          const bytes = (await object.body.toArray())
            .map((c: Buffer) => c)
            .reduce((a: Buffer, c: Buffer) => Buffer.concat([a, c]), Buffer.alloc(0));
          const body = new Readable({ read() {} });
          body.push(bytes.subarray(0, 20));
          setImmediate(() => body.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
          return { body, etag: object.etag };
        },
        write: lake.write.bind(lake),
        delete: lake.delete.bind(lake),
      };
      await expect(runExport(deps(resetting, tencent(data)), settings(), request)).rejects.toThrow(/ECONNRESET/);
      const summary = await runToCommit(deps(lake, tencent(data)), settings(), request);
      expect(summary).toMatchObject({ complete: true, corruptObjects: [] });
      expectHolds(
        lake,
        numbers,
        numbers.flatMap((n) => data.get(n) ?? []),
      );
    });

    it('an invocation killed right after it rebuilt a corrupt object still leaves that day owed: the next run restores it', async () => {
      const lake = memoryStore();
      const numbers = sameGroup(3);
      const data = new Map(numbers.map((n) => [n, receipts(n, 10, NOW - 20 * HOUR, NOW + 3 * HOUR)]));
      const s = settings({ defaults: { phoneNumbers: numbers }, chunkSize: 1 });
      let clock = NOW * 1000;
      const now = (): number => clock;
      await runToCommit(deps(lake, tencent(data), { now }), s, {});
      const day = utcDay(NOW - 2 * HOUR);
      const corrupt = objectKey(PREFIX, day, groupOf(numbers[0] as string));
      lake.put(BUCKET, corrupt, Buffer.from('garbage'));
      // The Lambda dies on the first state write after the rebuilt object is written.
      let rebuilt = false;
      const dying: ListingStore = {
        list: lake.list,
        read: lake.read,
        delete: lake.delete,
        write: async (bucket, key, body, options) => {
          if (rebuilt && key.includes('/_state/')) throw new Error('killed after the rebuild');
          const etag = await lake.write(bucket, key, body, options);
          if (key === corrupt) rebuilt = true;
          return etag;
        },
      };
      clock += HOUR * 1000;
      await expect(runExport(deps(dying, tencent(data), { now }), s, {})).rejects.toThrow('killed after the rebuild');
      const resumed = await runToCommit(deps(lake, tencent(data), { now }), s, {});
      expect(resumed).toMatchObject({ finished: true, complete: false });
      expect(ledgerOf(lake).rebuilds).toEqual([
        expect.objectContaining({ key: corrupt, group: groupOf(numbers[0] as string) }),
      ]);
      clock += HOUR * 1000;
      expect(await runToCommit(deps(lake, tencent(data), { now }), s, {})).toMatchObject({ complete: true });
      expectHolds(
        lake,
        numbers,
        numbers.flatMap((n) => inWindow(data.get(n) ?? [], { beginTime: NOW - DAY, endTime: clock / 1000 })),
      );
    });

    it('a workflow committed with a shard left undone (ShardRejected) keeps what its done groups owe, a corrupt day’s rebuild too', async () => {
      const lake = memoryStore();
      const [x, w] = numbersOf(400, 3).reduce<string[]>(
        (found, n) =>
          found.length === 0 ||
          (found.length === 1 && shardOfGroup(groupOf(n)) !== shardOfGroup(groupOf(found[0] as string)))
            ? [...found, n]
            : found,
        [],
      ) as [string, string];
      const data = new Map([
        [x, receipts(x, 40, NOW - 3 * DAY, NOW + 3 * HOUR)],
        [w, receipts(w, 10, NOW - DAY, NOW)],
      ]);
      const s = settings({ defaults: { phoneNumbers: [x, w] } });
      let clock = (NOW - 2 * HOUR) * 1000;
      const d = (): ExportDeps => deps(lake, tencent(data), { now: () => clock });
      const workflow = async (skip?: string): Promise<RunSummary> => {
        const plan = await planRun(d(), s, {});
        for (const shard of plan.shards)
          if (shard !== (skip && shardOfGroup(groupOf(skip)))) while (!(await exportShard(d(), s, plan, shard)).done);
        return commitRun(d(), s, plan);
      };
      expect(await workflow()).toMatchObject({ complete: true });
      const corrupt = objectKey(PREFIX, utcDay(NOW), groupOf(x));
      lake.put(BUCKET, corrupt, Buffer.from('garbage'));
      clock = NOW * 1000;
      // w's shard is rejected and caught; the Map goes on, and Commit runs.
      const partial = await workflow(w);
      expect(partial).toMatchObject({
        complete: false,
        checkpointAdvanced: false,
        corruptObjects: [expect.objectContaining({ key: corrupt })],
      });
      expect(ledgerOf(lake).rebuilds).toEqual([expect.objectContaining({ key: corrupt, group: groupOf(x) })]);
      clock = (NOW + HOUR) * 1000;
      expect(await workflow()).toMatchObject({ complete: true });
      // Everything from the first run's window on, the rebuilt day whole.
      expectHolds(lake, [x], inWindow(data.get(x) ?? [], { beginTime: NOW - 2 * HOUR - DAY, endTime: NOW + HOUR }));
    });
  });

  describe('receipts reported late', () => {
    it('a receipt reported late, after the hourly overlap, is recovered by the reconciliation sweep', async () => {
      const lake = memoryStore();
      const numbers = sameGroup(3);
      const data = new Map(numbers.map((n) => [n, receipts(n, 10, NOW - 20 * HOUR, NOW - HOUR)]));
      const late = (data.get(numbers[0] as string) as PullSmsSendStatus[])[0] as PullSmsSendStatus;
      late.UserReceiveTime = NOW - 3 * HOUR;
      // The carrier reports it 30 hours after the handset received it.
      const visibleAt = (r: PullSmsSendStatus): number => (r === late ? (r.UserReceiveTime as number) + 30 * HOUR : 0);
      let clock = NOW * 1000;
      const now = (): number => clock;
      const s = settings({ defaults: { phoneNumbers: numbers } });
      for (let hour = 0; hour < 3; hour++, clock += HOUR * 1000)
        await runToCommit(deps(lake, tencent(data, { now, visibleAt }), { now }), s, {});
      expect(
        exported(lake).some((r) => r.serialNo === late.SerialNo),
        'hourly runs miss it',
      ).toBe(false);
      clock = (NOW + 28 * HOUR) * 1000;
      const sweep = await runToCommit(deps(lake, tencent(data, { now, visibleAt }), { now }), s, { reconcile: true });
      expect(sweep).toMatchObject({ complete: true, checkpointAdvanced: false });
      expect(sweep.window).toEqual({ beginTime: NOW + 28 * HOUR - 72 * HOUR, endTime: NOW + 28 * HOUR });
      expectHolds(
        lake,
        numbers,
        numbers.flatMap((n) => data.get(n) ?? []),
      );
    });
  });

  describe('commits cut off while clearing the run', () => {
    it('a commit killed while it clears the run’s state is done again: the next invocation finishes it and the job runs on', async () => {
      const lake = memoryStore();
      const numbers = sameGroup(8);
      const data = new Map(numbers.map((n) => [n, receipts(n, 10, NOW - 3 * DAY, NOW + 3 * DAY)]));
      const s = settings({ defaults: { phoneNumbers: numbers } });
      let clock = NOW * 1000;
      const now = (): number => clock;
      for (const survives of [0, 1, 2]) {
        // The Lambda dies (or S3 fails a DELETE) after `survives` of the run's state objects are gone.
        let deletes = survives;
        const dying: ListingStore = {
          ...lake,
          delete: async (bucket, key) => {
            if (key.includes('/runs/') && deletes-- <= 0) throw new Error('killed while clearing the run');
            return lake.delete(bucket, key);
          },
        };
        await expect(runExport(deps(dying, tencent(data), { now }), s, {})).rejects.toThrow(
          'killed while clearing the run',
        );
        clock += HOUR * 1000;
        const next = await runToCommit(deps(lake, tencent(data), { now }), s, {});
        expect(next).toMatchObject({ finished: true, complete: true, checkpointAdvanced: true });
        expect(lake.keys(BUCKET, `${PREFIX}/_state/`).filter((k) => k.includes('/runs/'))).toEqual([]);
      }
      expectHolds(
        lake,
        numbers,
        numbers.flatMap((n) => inWindow(data.get(n) ?? [], { beginTime: NOW - DAY, endTime: clock / 1000 })),
      );
    });

    it('a workflow’s commit step retried after it failed clearing state answers the committed summary, not a recount', async () => {
      const lake = memoryStore();
      const numbers = sameGroup(10);
      const data = new Map(numbers.map((n) => [n, receipts(n, 10, NOW - DAY + 60, NOW)]));
      const s = settings({ defaults: { phoneNumbers: numbers } });
      const d = deps(lake, tencent(data));
      const plan = await planRun(d, s, {});
      for (const shard of plan.shards) while (!(await exportShard(d, s, plan, shard)).done);
      let deletes = 1;
      const failing: ListingStore = {
        ...lake,
        delete: async (bucket, key) => {
          if (deletes-- <= 0) throw new Error('S3 500 on DELETE');
          return lake.delete(bucket, key);
        },
      };
      await expect(commitRun({ ...d, store: failing }, s, plan)).rejects.toThrow('S3 500');
      const retried = await commitRun(d, s, plan);
      expect(retried).toMatchObject({
        finished: true,
        complete: true,
        checkpointAdvanced: true,
        records: 100,
        numbersDone: 10,
      });
      const stored = lake.json<RunSummary>(BUCKET, lake.keys(BUCKET, `${PREFIX}/_runs/`)[0] as string);
      expect(stored).toEqual(retried);
    });
  });
});

/** Widens the race window between a read and the write after it; optionally drops the write's condition. */
function racingStore(lake: MemoryStore, conditional: boolean): ListingStore {
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2));
  return {
    list: lake.list,
    async read(bucket, key) {
      const object = await lake.read(bucket, key);
      await pause();
      return object;
    },
    async write(bucket, key, body, options = {}) {
      await pause();
      return lake.write(bucket, key, body, conditional ? options : { ...options, condition: {} });
    },
    delete: (bucket, key) => lake.delete(bucket, key),
  };
}
