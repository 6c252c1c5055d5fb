import { describe, expect, it } from 'vitest';
import { jobIdOf } from '#lib/export/job.ts';
import { byGroup, fnv1a as fnvSeed, groupOf } from '#lib/lake/layout.ts';
import { requestOf, type ExportRequest } from '#lib/export/request.ts';
import { runExport, type RunOutcome } from '#lib/export/run.ts';
import type { Checkpoint } from '#lib/export/job-store.ts';
import type { ExportDeps, ExportProgressEvent, Plan, RunSummary } from '#lib/export/types.ts';
import type { ListingStore } from '#lib/lake/store.ts';
import { InvalidInput, UpstreamRejected, UpstreamUnavailable } from '#lib/errors.ts';
import { fakeClock } from '../../support/fake-clock.ts';
import {
  BUCKET,
  BUSY,
  DATA,
  DAY,
  EXPLICIT,
  HOUR,
  NOW,
  NUMBERS,
  OPTED_OUT,
  OTHERS,
  PREFIX,
  SATURATED,
  SCHEDULED_EVENT,
  WINDOW,
  dataObjects,
  deps,
  exported,
  fakeClient,
  lake,
  receipts,
  exportSummary,
  settings,
  stateKey,
  timeFor,
  totalTruth,
  truth,
  truthOf,
} from '../../support/export-fixtures.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { rejection } from '../../support/net.ts';

describe('runExport', () => {
  it('one run exports exactly the receipts of the window, each under its own UTC day and group', async () => {
    const store = memoryStore();
    const client = fakeClient();
    const progress: ExportProgressEvent[] = [];
    const summary = await exportSummary(deps(store, client, { onProgress: (e) => progress.push(e) }), settings(), {
      phoneNumbers: NUMBERS,
      ...EXPLICIT,
    });
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, WINDOW), { prefix: PREFIX });
    const days = new Set(store.keys(BUCKET, `${PREFIX}/statuses/`).map((k) => /dt=([\d-]+)/.exec(k)?.[1]));
    expect([...days].sort()).toEqual(['2025-06-13', '2025-06-14', '2025-06-15']);
    expect(summary).toMatchObject({
      complete: true,
      checkpointAdvanced: false,
      window: WINDOW,
      numbersTotal: NUMBERS.length,
      numbersDone: NUMBERS.length,
      records: totalTruth(NUMBERS, WINDOW),
      failures: [],
      incompleteNumbers: [],
      invocations: 1,
      requests: client.calls.length,
      manifestProblems: [],
      manifestProblemCount: 0,
      duplicateNumbers: 0,
    });
    const byStatus = summary.recordsByStatus;
    expect((byStatus.SUCCESS ?? 0) + (byStatus.FAIL ?? 0)).toBe(summary.records);
    // The busy number needed split windows; the pull never asked beyond the window.
    const busyCalls = client.calls.filter((c) => c.phoneNumber === BUSY);
    expect(busyCalls.length).toBeGreaterThan(1);
    for (const call of client.calls) {
      expect(call.beginTime).toBeGreaterThanOrEqual(WINDOW.beginTime);
      expect(call.endTime).toBeLessThanOrEqual(WINDOW.endTime);
    }
    // A finished run leaves its summary and no progress; an explicit window moves no checkpoint.
    const jobId = summary.jobId;
    expect(store.keys(BUCKET, `${PREFIX}/_state/`)).toEqual([]);
    expect(store.json<RunSummary>(BUCKET, `${PREFIX}/_runs/dt=2025-06-15/${summary.runId}.json`)).toEqual(summary);
    expect(jobId).toBe(jobIdOf({ phoneNumbers: NUMBERS, ...EXPLICIT }, {}));
    expect(progress.at(-1)).toEqual({
      numbersDone: NUMBERS.length,
      numbersTotal: NUMBERS.length,
      records: summary.records,
    });
    const done = progress.map((p) => p.numbersDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
  });

  it.each([1, 4])(
    'objectsWritten counts every day-and-group object write (%i groups side by side)',
    async (groupConcurrency) => {
      const store = memoryStore();
      const summary = await exportSummary(deps(store, fakeClient()), settings({ groupConcurrency }), {
        phoneNumbers: NUMBERS,
        ...EXPLICIT,
      });
      expect(summary.complete).toBe(true);
      const writes = store.writes.filter((k) => k.includes('/statuses/')).length;
      expect(writes).toBeGreaterThanOrEqual(store.keys(BUCKET, `${PREFIX}/statuses/`).length);
      expect(summary.objectsWritten, 'objectsWritten').toBe(writes);
    },
  );

  it('running the same window again leaves the same objects, byte for byte', async () => {
    const store = memoryStore();
    const request = { phoneNumbers: NUMBERS, ...EXPLICIT };
    await exportSummary(deps(store, fakeClient()), settings(), request);
    const first = dataObjects(store);
    const again = await exportSummary(
      deps(store, fakeClient()),
      settings({ chunkSize: 7, concurrency: 2, groupConcurrency: 1 }),
      request,
    );
    expect(again.complete).toBe(true);
    const second = dataObjects(store);
    expect([...second.keys()]).toEqual([...first.keys()]);
    for (const [key, body] of first) expect(second.get(key)?.equals(body), key).toBe(true);
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, WINDOW), { prefix: PREFIX });
  });

  it('tallies each receipt new to the lake once, by status and country: a rerun, a resume or a second job adds nothing', async () => {
    const store = memoryStore();
    const tallied: Record<string, number> = {};
    const onNewReceipts = (tally: Record<string, number>): void => {
      for (const [key, n] of Object.entries(tally)) tallied[key] = (tallied[key] ?? 0) + n;
    };
    const request = { phoneNumbers: NUMBERS, ...EXPLICIT };
    const clock = fakeClock();
    // Cut into invocations of one request each, then run again whole, then by another job of the same numbers.
    const client = fakeClient({ clock });
    const tiny = (): ExportDeps => deps(store, client, { onNewReceipts, remainingMs: timeFor(clock, 1) });
    const invocations: RunSummary[] = [];
    while (!invocations.at(-1)?.complete) {
      expect(invocations.length, 'invocations').toBeLessThan(40);
      invocations.push(await exportSummary(tiny(), settings({ groupConcurrency: 1 }), request));
    }
    expect(invocations.length).toBeGreaterThan(1);
    await exportSummary(deps(store, fakeClient(), { onNewReceipts }), settings(), request);
    await exportSummary(deps(store, fakeClient(), { onNewReceipts }), settings(), {
      phoneNumbers: [...NUMBERS].reverse(),
      ...EXPLICIT,
    });
    const want: Record<string, number> = {};
    for (const r of truthOf(NUMBERS, WINDOW))
      want[`${r.reportStatus} ${r.countryCode}`] = (want[`${r.reportStatus} ${r.countryCode}`] ?? 0) + 1;
    expect(tallied).toEqual(want);
  });

  it('a tiny remaining-time budget stops cleanly after a chunk; resuming gives the same objects as one run', async () => {
    const whole = memoryStore();
    await exportSummary(deps(whole, fakeClient()), settings(), { phoneNumbers: NUMBERS, ...EXPLICIT });

    const store = memoryStore();
    // Each invocation has time for one Tencent request past its reserve: it starts a chunk, then stops.
    // Groups go one at a time: side by side, each would start its first chunk before any time passed.
    const clock = fakeClock();
    const client = fakeClient({ clock });
    const oneAtATime = settings({ groupConcurrency: 1 });
    const request = { phoneNumbers: NUMBERS, ...EXPLICIT };
    const first = await exportSummary(deps(store, client, { remainingMs: timeFor(clock, 1) }), oneAtATime, request);
    expect(first.complete).toBe(false);
    expect(first.checkpointAdvanced).toBe(false);
    expect(first.numbersDone).toBeGreaterThan(0);
    expect(first.numbersDone).toBeLessThan(NUMBERS.length);
    const saved = store.json<Plan>(BUCKET, stateKey(first.jobId, 'run'));
    expect(saved?.window).toEqual(WINDOW);
    expect(saved?.runId).toBe(first.runId);

    const summaries: RunSummary[] = [first];
    while (!summaries.at(-1)?.complete) {
      expect(summaries.length, 'invocations').toBeLessThan(40);
      summaries.push(await exportSummary(deps(store, client, { remainingMs: timeFor(clock, 1) }), oneAtATime, request));
    }
    const last = summaries.at(-1) as RunSummary;
    // One chunk per invocation: at least one invocation per group of numbers.
    expect(summaries.length).toBeGreaterThanOrEqual(byGroup(NUMBERS).size);
    expect(new Set(summaries.map((s) => s.runId))).toEqual(new Set([first.runId]));
    expect(last).toMatchObject({
      complete: true,
      invocations: summaries.length,
      numbersDone: NUMBERS.length,
      numbersTotal: NUMBERS.length,
      records: totalTruth(NUMBERS, WINDOW),
      window: WINDOW,
    });
    expect(store.keys(BUCKET, `${PREFIX}/_state/`)).toEqual([]);
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, WINDOW), { prefix: PREFIX });
    const resumed = dataObjects(store);
    const once = dataObjects(whole);
    expect([...resumed.keys()]).toEqual([...once.keys()]);
    for (const [key, body] of once) expect(resumed.get(key)?.equals(body), key).toBe(true);
  });

  it('a run that dies part-way (a write fails) is resumed by the next invocation and ends exact', async () => {
    const store = memoryStore();
    let dataWrites = 0;
    const flaky: ListingStore = {
      list: store.list,
      read: (b, k) => store.read(b, k),
      delete: (b, k) => store.delete(b, k),
      async write(b, k, body, options) {
        if (k.includes('/statuses/') && ++dataWrites === 6) throw new Error('connection reset by S3');
        return store.write(b, k, body, options);
      },
    };
    const request = { phoneNumbers: NUMBERS, ...EXPLICIT };
    const error = await rejection(() => exportSummary(deps(flaky, fakeClient()), settings(), request));
    expect((error as Error).message).toContain('connection reset by S3');
    const jobId = jobIdOf(request, {});
    const saved = store.json<Plan>(BUCKET, stateKey(jobId, 'run'));
    expect(saved?.window).toEqual(WINDOW);
    expect(store.keys(BUCKET, `${PREFIX}/statuses/`).length).toBeGreaterThan(0);
    const summary = await exportSummary(deps(store, fakeClient()), settings(), request);
    expect(summary.complete).toBe(true);
    expect(summary.invocations).toBe(2);
    expect(summary.numbersDone).toBe(NUMBERS.length);
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, WINDOW), { prefix: PREFIX });
  });

  it('a rejected number is recorded in the failures and the run goes on', async () => {
    const store = memoryStore();
    const numbers = [...NUMBERS, OPTED_OUT];
    const summary = await exportSummary(
      deps(store, fakeClient()),
      settings({ defaults: { phoneNumbers: numbers } }),
      {},
    );
    expect(summary.complete).toBe(true);
    expect(summary.checkpointAdvanced).toBe(true);
    expect(summary.failures).toEqual([
      {
        phoneNumber: OPTED_OUT,
        kind: 'rejected',
        name: 'InvalidInput',
        code: 'FailedOperation.PhoneNumberInBlacklist',
        message: 'The mobile number is in the opt-out list.',
        requestId: expect.stringMatching(/^rid-/),
      },
    ]);
    expect(summary.numbersDone).toBe(numbers.length);
    expect(lake(store)).toHoldExactly(truthOf(numbers, summary.window), { prefix: PREFIX });
  });

  it('a transient failure that clears up is retried within the run', async () => {
    const store = memoryStore();
    let failed = 0;
    const client = fakeClient({
      fail: (request) => {
        if (request.phoneNumber === '+8613711112222' && failed < 1) {
          failed += 1;
          return new UpstreamUnavailable('Tencent is busy', { code: 'InternalError.Timeout', requestId: 'rid-x' });
        }
        return undefined;
      },
    });
    const summary = await exportSummary(deps(store, client), settings(), { phoneNumbers: NUMBERS, ...EXPLICIT });
    expect(summary.complete).toBe(true);
    expect(summary.failures).toEqual([]);
    expect(summary.numbersDone).toBe(NUMBERS.length);
    expect(summary.records).toBe(totalTruth(NUMBERS, WINDOW));
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, WINDOW), { prefix: PREFIX });
  });

  it('a number that keeps failing is owed, not a brake: the checkpoint advances, its window stays pending, later runs retry it and name it stuck', async () => {
    const store = memoryStore();
    const s = settings({ stuckAfterRuns: 2 });
    const jobId = jobIdOf({}, s.defaults);
    const flaky = '+14155550123';
    let clock = NOW * 1000;
    const now = (): number => clock;
    const ok = await exportSummary(deps(store, fakeClient(), { now }), s, {});
    expect(ok.checkpointAdvanced).toBe(true);

    clock += 2 * HOUR * 1000;
    const down = fakeClient({
      fail: (request) =>
        request.phoneNumber === flaky
          ? new UpstreamUnavailable('cannot reach Tencent (ECONNRESET)', { code: 'ECONNRESET' })
          : undefined,
    });
    // The run gives the failing number a chance per invocation (the platform retries after a pause);
    // after MAX_CHANCES it commits with the number's window owed.
    const tries: RunOutcome[] = [];
    do tries.push(await runExport(deps(store, down, { now }), s, {}));
    while (tries.at(-1)?.retryLater);
    expect(tries.map((t) => t.retryLater?.name)).toEqual(['UpstreamUnavailable', 'UpstreamUnavailable', undefined]);
    const failing = tries.at(-1)?.summary as RunSummary;
    expect(failing).toMatchObject({
      complete: false,
      checkpointAdvanced: true,
      pendingWindows: 1,
      stuckCount: 0,
      failureCount: 1,
    });
    expect(failing.window).toEqual({ beginTime: NOW - HOUR, endTime: NOW + 2 * HOUR });
    expect(failing.failures).toEqual([
      expect.objectContaining({ phoneNumber: flaky, kind: 'transient', code: 'ECONNRESET' }),
    ]);
    expect(failing.numbersDone).toBe(NUMBERS.length);
    expect(store.json<Checkpoint>(BUCKET, stateKey(jobId, 'checkpoint'))?.endTime).toBe(NOW + 2 * HOUR);
    // Every other number is exact up to the new checkpoint; the failing one only up to where it was.
    const others = NUMBERS.filter((n) => n !== flaky);
    expect(lake(store)).toHoldExactly(truthOf(others, { beginTime: NOW - 2 * DAY, endTime: NOW + 2 * HOUR }), {
      prefix: PREFIX,
      ignore: (r) => r.phoneNumber === flaky,
    });

    // Still down an hour later: owed for a second run, now reported stuck; the others advance again.
    clock += HOUR * 1000;
    let again: RunOutcome;
    do again = await runExport(deps(store, down, { now }), s, {});
    while (again.retryLater);
    expect(again.summary).toMatchObject({
      complete: false,
      checkpointAdvanced: true,
      stuckCount: 1,
      stuckNumbers: [flaky],
    });
    expect(
      down.calls.filter((c) => c.phoneNumber === flaky && c.beginTime === NOW - HOUR).length,
      'its own window was retried',
    ).toBeGreaterThan(0);

    // Tencent back: the next run pulls the number's owed window with the new one, and nothing is owed.
    clock += HOUR * 1000;
    const back = await exportSummary(deps(store, fakeClient(), { now }), s, {});
    expect(back).toMatchObject({ complete: true, pendingWindows: 0, stuckCount: 0, failures: [] });
    expect(store.json<Checkpoint>(BUCKET, stateKey(jobId, 'checkpoint'))?.endTime).toBe(NOW + 4 * HOUR);
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, { beginTime: NOW - 2 * DAY, endTime: NOW + 4 * HOUR }), {
      prefix: PREFIX,
    });
    expect(
      store.keys(BUCKET, `${PREFIX}/_state/${jobId}/pending/`).flatMap((k) => store.json<unknown[]>(BUCKET, k) ?? []),
    ).toEqual([]);
  });

  it('UpstreamRejected (credentials, app) aborts the run and moves no checkpoint', async () => {
    const store = memoryStore();
    const client = fakeClient({
      fail: (request) =>
        request.phoneNumber === '+8613711112222'
          ? new UpstreamRejected('The SecretId is not found.', {
              code: 'AuthFailure.SecretIdNotFound',
              requestId: 'rid-auth',
            })
          : undefined,
    });
    const error = await rejection(() => exportSummary(deps(store, client), settings(), {}));
    expect(error).toBeInstanceOf(UpstreamRejected);
    expect((error as UpstreamRejected).name).toBe('UpstreamRejected');
    expect((error as UpstreamRejected).code).toBe('AuthFailure.SecretIdNotFound');
    expect(store.get(BUCKET, stateKey(jobIdOf({}, settings().defaults), 'checkpoint'))).toBeUndefined();
    expect(
      store.keys(BUCKET, `${PREFIX}/_runs/`).map((k) => store.json<RunSummary>(BUCKET, k)?.complete),
    ).not.toContain(true);
    // Once the credentials are fixed, the next run finishes the job and the objects are exact.
    const fixed = await exportSummary(deps(store, fakeClient()), settings(), {});
    expect(fixed.complete).toBe(true);
    expect(fixed.checkpointAdvanced).toBe(true);
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, fixed.window), { prefix: PREFIX });
  });

  it('the checkpoint advances to the window end; the next scheduled window begins at checkpoint − lateness', async () => {
    const store = memoryStore();
    const s = settings({ window: { latenessSeconds: 2 * HOUR, initialLookbackSeconds: DAY } });
    const jobId = jobIdOf({}, s.defaults);
    let clock = NOW * 1000;
    const first = await exportSummary(deps(store, fakeClient(), { now: () => clock }), s, requestOf(SCHEDULED_EVENT));
    expect(first.window).toEqual({ beginTime: NOW - DAY, endTime: NOW });
    expect(first.jobId).toBe(jobId);
    expect(first.checkpointAdvanced).toBe(true);
    expect(store.json<Checkpoint>(BUCKET, stateKey(jobId, 'checkpoint'))).toMatchObject({
      endTime: NOW,
      runId: first.runId,
    });
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, first.window), { prefix: PREFIX });

    clock += 90 * 60 * 1000;
    const second = await exportSummary(deps(store, fakeClient(), { now: () => clock }), s, {});
    expect(second.window).toEqual({ beginTime: NOW - 2 * HOUR, endTime: NOW + 90 * 60 });
    expect(second.runId).not.toBe(first.runId);
    expect(store.json<Checkpoint>(BUCKET, stateKey(jobId, 'checkpoint'))).toMatchObject({
      endTime: NOW + 90 * 60,
      runId: second.runId,
    });
    // The overlap is rewritten, not duplicated.
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, { beginTime: NOW - DAY, endTime: NOW + 90 * 60 }), {
      prefix: PREFIX,
    });
    expect(store.keys(BUCKET, `${PREFIX}/_runs/`)).toHaveLength(2);
  });

  it('an unfinished scheduled run keeps its window when resumed later, and then advances the checkpoint', async () => {
    const store = memoryStore();
    const s = settings();
    let clock = NOW * 1000;
    const invocation = fakeClock();
    const first = await exportSummary(
      deps(store, fakeClient({ clock: invocation }), { now: () => clock, remainingMs: timeFor(invocation, 2) }),
      s,
      {},
    );
    expect(first.complete).toBe(false);
    expect(store.get(BUCKET, stateKey(first.jobId, 'checkpoint'))).toBeUndefined();
    clock += HOUR * 1000;
    const rest = await exportSummary(deps(store, fakeClient(), { now: () => clock }), s, {});
    expect(rest.complete).toBe(true);
    expect(rest.window).toEqual(first.window);
    expect(store.json<Checkpoint>(BUCKET, stateKey(first.jobId, 'checkpoint'))?.endTime).toBe(first.window.endTime);
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, first.window), { prefix: PREFIX });
  });

  it('a number with more receipts in one second than a page holds is reported incomplete, its records unique', async () => {
    const store = memoryStore();
    const numbers = [SATURATED, '+8613711112222'];
    const summary = await exportSummary(deps(store, fakeClient()), settings(), { phoneNumbers: numbers, ...EXPLICIT });
    expect(summary.incompleteNumbers).toEqual([SATURATED]);
    const lines = exported(store).filter((l) => l.record.phoneNumber === SATURATED);
    const all = new Set(truth(SATURATED, WINDOW).map((s) => s.SerialNo));
    expect(lines.length).toBeGreaterThanOrEqual(100);
    expect(new Set(lines.map((l) => l.record.serialNo)).size).toBe(lines.length);
    for (const { record } of lines) expect(all.has(record.serialNo)).toBe(true);
    expect(lake(store)).toHoldExactly(
      truthOf(
        numbers.filter((n) => n !== SATURATED),
        WINDOW,
      ),
      { prefix: PREFIX, ignore: (r) => r.phoneNumber === SATURATED },
    );
  });

  for (const order of ['ascending', 'descending'] as const) {
    it(`Tencent answering ${order}: a second of 120 receipts among others costs a few requests, not the pull's cap of 10,000`, async () => {
      const store = memoryStore();
      // 30 receipts before the crowded second and 30 after: a sorted page ends inside it.
      const crowded = '+8613600136123';
      const at = NOW - 5 * HOUR;
      const held = [
        ...receipts(crowded, 30, at - 4 * HOUR, at - 1, 31),
        ...receipts(crowded, 120, at, at, 32),
        ...receipts(crowded, 30, at + 1, at + HOUR, 33),
      ];
      const client = fakeClient({ receipts: (n) => (n === crowded ? held : (DATA.get(n) ?? [])), order });
      const summary = await exportSummary(deps(store, client), settings(), {
        phoneNumbers: [crowded, '+8613711112222'],
        ...EXPLICIT,
      });
      expect(summary.incompleteNumbers).toEqual([crowded]);
      expect(lake(store)).toHoldExactly(truthOf(['+8613711112222'], WINDOW), {
        prefix: PREFIX,
        ignore: (r) => r.phoneNumber === crowded,
      });
      const found = new Set(exported(store).map((l) => l.record.serialNo));
      expect(held.filter((r) => r.UserReceiveTime !== at && !found.has(r.SerialNo as string))).toEqual([]);
      expect(client.calls.length).toBeLessThanOrEqual(12);
    });
  }

  it('a manifest in the store adds its numbers; its bad lines are in the summary', async () => {
    const store = memoryStore();
    store.put(
      BUCKET,
      'manifests/numbers.csv',
      ['id,phoneNumber', '1,+8613711112222', '2,13800138000', `3,"${BUSY}"`, `4,${BUSY}`].join('\n'),
    );
    const summary = await exportSummary(deps(store, fakeClient()), settings(), {
      phoneNumbers: ['+14155550123'],
      manifest: `s3://${BUCKET}/manifests/numbers.csv`,
      ...EXPLICIT,
    });
    const numbers = ['+14155550123', '+8613711112222', BUSY];
    expect(summary).toMatchObject({
      complete: true,
      numbersTotal: 3,
      numbersDone: 3,
      manifestProblems: [{ line: 3, reason: expect.stringMatching(/E\.164/) }],
      manifestProblemCount: 1,
      duplicateNumbers: 1,
    });
    expect(lake(store)).toHoldExactly(truthOf(numbers, WINDOW), { prefix: PREFIX });
  });

  it('invalid input is refused before any request: a missing manifest, a window past 7 days', async () => {
    const client = fakeClient();
    const missing = await rejection(() =>
      exportSummary(deps(memoryStore(), client), settings(), { manifest: `s3://${BUCKET}/nope.txt` }),
    );
    expect(missing).toBeInstanceOf(InvalidInput);
    expect((missing as InvalidInput).field).toBe('manifest');
    const early = await rejection(() =>
      exportSummary(deps(memoryStore(), client), settings(), { phoneNumbers: NUMBERS, beginTime: NOW - 8 * DAY }),
    );
    expect(early).toBeInstanceOf(InvalidInput);
    expect((early as InvalidInput).field).toBe('beginTime');
    expect(client.calls).toEqual([]);
  });

  it('a list with no valid number is refused, naming it, and moves no checkpoint: an empty manifest, one of bad lines only, an inline list of bad numbers', async () => {
    const store = memoryStore();
    store.put(BUCKET, 'manifests/empty.txt', '');
    store.put(BUCKET, 'manifests/bad.txt', ['8613711112222', '13800138000'].join('\n'));
    const client = fakeClient();
    const cases: Array<[ExportRequest, string]> = [
      [{ manifest: `s3://${BUCKET}/manifests/empty.txt` }, 'manifest'],
      [{ manifest: `s3://${BUCKET}/manifests/bad.txt` }, 'manifest'],
      [{ phoneNumbers: ['8613711112222', 'not a number'] }, 'phoneNumbers'],
    ];
    for (const [request, field] of cases) {
      const error = await rejection(() => exportSummary(deps(store, client), settings(), request));
      expect(error, JSON.stringify(request)).toBeInstanceOf(InvalidInput);
      expect((error as InvalidInput).field).toBe(field);
      expect((error as InvalidInput).message).toMatch(/no valid phone number/);
    }
    expect(store.keys(BUCKET, `${PREFIX}/_state/`)).toEqual([]);
    expect(client.calls).toEqual([]);
  });

  it('the run freezes its numbers: a manifest changed while it is unfinished neither skips a number nor shifts a cursor', async () => {
    const store = memoryStore();
    // Four numbers of one group, one chunk per invocation: the list is cut under the run's feet.
    const group = groupOf(OTHERS[0] as string);
    const four = Array.from({ length: 4000 }, (_, i) => `+86139${String(10_000_000 + i * 7919).slice(-8)}`)
      .filter((n) => groupOf(n) === group)
      .slice(0, 4);
    expect(four).toHaveLength(4);
    for (const n of four) DATA.set(n, receipts(n, 5, NOW - DAY, NOW - HOUR, fnvSeed(n)));
    store.put(BUCKET, 'manifests/list.txt', four.join('\n'));
    const request = { manifest: `s3://${BUCKET}/manifests/list.txt`, ...EXPLICIT };
    const s = settings({ chunkSize: 1 });
    // Each invocation has time for one Tencent request past its reserve.
    const shortOfTime = (): ExportDeps => {
      const clock = fakeClock();
      return deps(store, fakeClient({ clock }), { remainingMs: timeFor(clock, 1) });
    };
    const first = await exportSummary(shortOfTime(), s, request);
    expect(first.complete).toBe(false);
    store.put(BUCKET, 'manifests/list.txt', four.slice(1).join('\n'));
    const manifestReads = store.reads.length;
    let last = first;
    while (!last.complete) last = await exportSummary(shortOfTime(), s, request);
    expect(last.numbersTotal).toBe(4);
    expect(last.numbersDone).toBe(4);
    expect(lake(store)).toHoldExactly(truthOf(four, WINDOW), { prefix: PREFIX });
    expect(
      store.reads.slice(manifestReads).filter((k) => k.startsWith('manifests/')),
      'no invocation reads the manifest again',
    ).toEqual([]);
  });

  it('a transient failure in an earlier invocation of a resumed run: the run ends incomplete, the next one redoes the window exactly', async () => {
    const store = memoryStore();
    const s = settings();
    const flaky = '+14155550123';
    const request = {};
    // The first invocation meets Tencent failing for one number and runs out of time.
    let down = true;
    const client = fakeClient({
      fail: (r) =>
        down && r.phoneNumber === flaky
          ? new UpstreamUnavailable('busy', { code: 'InternalError.Timeout' })
          : undefined,
    });
    const summaries: RunSummary[] = [];
    // Time runs short as soon as the flaky number has been tried.
    const remainingMs = (): number => (client.calls.some((c) => c.phoneNumber === flaky) ? 10 : 60_000);
    summaries.push(await exportSummary(deps(store, client, { remainingMs }), s, request));
    expect(summaries[0]?.complete).toBe(false);
    expect(summaries[0]?.failures.map((f) => [f.phoneNumber, f.kind])).toEqual([[flaky, 'transient']]);
    down = false;
    while (!summaries.at(-1)?.complete) {
      expect(summaries.length).toBeLessThan(10);
      summaries.push(await exportSummary(deps(store, client), s, request));
    }
    const jobId = jobIdOf(request, s.defaults);
    const last = summaries.at(-1) as RunSummary;
    expect(last.failures).toEqual([]);
    expect(store.json<Checkpoint>(BUCKET, stateKey(jobId, 'checkpoint'))?.endTime).toBe(last.window.endTime);
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, last.window), { prefix: PREFIX });
  });

  it('gives the client a deadline of now + remaining time − reserve/2, so no retry outlives the invocation', async () => {
    const client = fakeClient();
    await exportSummary(deps(memoryStore(), client, { remainingMs: () => 120_000 }), settings({ reserveMs: 30_000 }), {
      phoneNumbers: ['+8613711112222'],
      ...EXPLICIT,
    });
    expect(client.deadlineAt).toBe(NOW * 1000 + 120_000 - 15_000);
  });
});
