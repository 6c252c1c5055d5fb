import { describe, expect, it } from 'vitest';
import { ledgerKey, objectKey } from '#lib/lake/layout.ts';
import { JOB_ACTIVE_MS, readLedger, recordRebuild, registerJob, settleRebuilds } from '#lib/lake/ledger.ts';
import type { FoundCorrupt, Ledger } from '#lib/lake/ledger.ts';
import { memoryStore, type MemoryStore } from '../../support/memory-store.ts';

const BUCKET = 'exports';
const PREFIX = 'sms-status';
const T = Date.UTC(2025, 5, 15, 12);
const HOUR_MS = 3_600_000;
const KEY = objectKey(PREFIX, '2025-06-14', 5);
const COPY = `${PREFIX}/_quarantine/statuses/dt=2025-06-14/part-05.jsonl.gz.a1`;
const NUMBER = '+8613711112222';

const at = (ms: number): string => new Date(ms).toISOString();

function found(overrides: Partial<FoundCorrupt> = {}): FoundCorrupt {
  return { key: KEY, movedTo: COPY, day: '2025-06-14', group: 5, numbersRead: [NUMBER], ...overrides };
}

function ledgerOf(store: MemoryStore): Ledger | undefined {
  return store.json<Ledger>(BUCKET, ledgerKey(PREFIX));
}

/** `jobId` paid the debt of KEY found at `foundAt` (`lost`: only as much as Tencent still held), at `nowMs`. */
function settle(store: MemoryStore, jobId: string, nowMs: number, { foundAt = at(T), lost = false } = {}) {
  return settleRebuilds(store, BUCKET, PREFIX, [{ key: KEY, foundAt, lost }], jobId, nowMs);
}

/** Jobs `a` (groups 5 and 6) and `b` (group 5) registered at T, and one rebuild of group 5 found at T. */
async function twoJobsOneDebt(): Promise<MemoryStore> {
  const store = memoryStore();
  await registerJob(store, BUCKET, PREFIX, 'a', [5, 6], T);
  await registerJob(store, BUCKET, PREFIX, 'b', [5], T);
  await recordRebuild(store, BUCKET, PREFIX, found(), T);
  return store;
}

describe('readLedger', () => {
  it('an empty ledger until something is written', async () => {
    expect(await readLedger(memoryStore(), BUCKET, PREFIX)).toEqual({ jobs: {}, rebuilds: [] });
  });
});

describe('recordRebuild', () => {
  it('writes the debt of a rebuilt day object: its day, group, copy and the numbers read, paid by nobody', async () => {
    const store = memoryStore();
    await recordRebuild(store, BUCKET, PREFIX, found(), T);
    const debt = { key: KEY, day: '2025-06-14', group: 5, copies: [COPY], numbersRead: [NUMBER], foundAt: at(T) };
    expect(ledgerOf(store)).toEqual({ jobs: {}, rebuilds: [{ ...debt, owners: [], paid: {}, lost: {} }] });
  });

  it('found corrupt again: one debt, its copies (capped) and numbers gathered, found anew, owed by all', async () => {
    const store = await twoJobsOneDebt();
    await settle(store, 'a', T + HOUR_MS);
    expect(ledgerOf(store)?.rebuilds[0]?.paid).toHaveProperty('a');
    for (let i = 0; i < 7; i++) {
      const again = found({ movedTo: `copy-${i}`, numbersRead: [`+86137000000${i}0`, NUMBER] });
      await recordRebuild(store, BUCKET, PREFIX, again, T + 2 * HOUR_MS);
    }
    const [debt, ...others] = ledgerOf(store)?.rebuilds ?? [];
    expect(others).toEqual([]);
    expect(debt).toMatchObject({ key: KEY, foundAt: at(T + 2 * HOUR_MS) });
    expect([debt?.paid, debt?.lost]).toEqual([{}, {}]);
    expect(debt?.copies).toEqual([COPY, 'copy-0', 'copy-1', 'copy-2', 'copy-3']);
    expect(debt?.numbersRead).toEqual([NUMBER, ...Array.from({ length: 7 }, (_, i) => `+86137000000${i}0`)]);
  });

  it('keeps the other debts as they were', async () => {
    const store = memoryStore();
    const other = objectKey(PREFIX, '2025-06-13', 9);
    await recordRebuild(store, BUCKET, PREFIX, found({ key: other, day: '2025-06-13', group: 9 }), T);
    await recordRebuild(store, BUCKET, PREFIX, found(), T + HOUR_MS);
    expect(ledgerOf(store)?.rebuilds.map((d) => [d.key, d.foundAt])).toEqual([
      [other, at(T)],
      [KEY, at(T + HOUR_MS)],
    ]);
  });
});

describe('registerJob', () => {
  it('names the job with its groups and when it was seen', async () => {
    const store = memoryStore();
    await registerJob(store, BUCKET, PREFIX, 'a', [5, 6], T);
    expect(ledgerOf(store)).toEqual({ jobs: { a: { groups: [5, 6], seenAt: at(T) } }, rebuilds: [] });
  });

  it('writes nothing while the entry is the same and fresh; writes once its groups change or it is stale', async () => {
    const store = memoryStore();
    const stale = JOB_ACTIVE_MS / 32;
    await registerJob(store, BUCKET, PREFIX, 'a', [5, 6], T);
    const writes = store.writes.length;
    await registerJob(store, BUCKET, PREFIX, 'a', [5, 6], T + stale - 1);
    expect(store.writes).toHaveLength(writes);
    await registerJob(store, BUCKET, PREFIX, 'a', [5], T + HOUR_MS);
    expect(ledgerOf(store)?.jobs.a).toEqual({ groups: [5], seenAt: at(T + HOUR_MS) });
    await registerJob(store, BUCKET, PREFIX, 'a', [5], T + HOUR_MS + stale);
    expect(ledgerOf(store)?.jobs.a?.seenAt).toBe(at(T + HOUR_MS + stale));
  });

  it('drops the jobs unseen for JOB_ACTIVE_MS (8 days) as it writes, and keeps the debts', async () => {
    const store = await twoJobsOneDebt();
    expect(JOB_ACTIVE_MS).toBe(8 * 24 * HOUR_MS);
    await registerJob(store, BUCKET, PREFIX, 'b', [5], T + JOB_ACTIVE_MS - 1);
    await registerJob(store, BUCKET, PREFIX, 'c', [7], T + JOB_ACTIVE_MS);
    expect(Object.keys(ledgerOf(store)?.jobs ?? {}).sort()).toEqual(['b', 'c']);
    expect(ledgerOf(store)?.rebuilds.map((d) => d.key)).toEqual([KEY]);
  });
});

describe('settleRebuilds', () => {
  it('a debt stays until every active job owning its group has paid it; then it is gone', async () => {
    const store = await twoJobsOneDebt();
    const afterA = await settle(store, 'a', T + HOUR_MS);
    expect(afterA.rebuilds).toEqual([expect.objectContaining({ key: KEY, paid: { a: at(T + HOUR_MS) }, lost: {} })]);
    expect(ledgerOf(store)).toEqual(afterA);
    expect((await settle(store, 'b', T + 2 * HOUR_MS)).rebuilds).toEqual([]);
    expect(ledgerOf(store)?.rebuilds).toEqual([]);
  });

  it('owed by the jobs owning its group when it was found: a job registered later holds nothing back', async () => {
    const store = await twoJobsOneDebt();
    expect(ledgerOf(store)?.rebuilds[0]?.owners).toEqual(['a', 'b']);
    await registerJob(store, BUCKET, PREFIX, 'late', [5], T + HOUR_MS);
    await settle(store, 'a', T + 2 * HOUR_MS);
    expect((await settle(store, 'b', T + 3 * HOUR_MS)).rebuilds).toEqual([]);
  });

  it('a debt written before owners were kept is owed by every active job owning its group', async () => {
    const store = await twoJobsOneDebt();
    const ledger = ledgerOf(store) as Ledger;
    store.put(
      BUCKET,
      ledgerKey(PREFIX),
      Buffer.from(JSON.stringify({ ...ledger, rebuilds: ledger.rebuilds.map(({ owners: _, ...debt }) => debt) })),
    );
    await registerJob(store, BUCKET, PREFIX, 'late', [5], T + HOUR_MS);
    await settle(store, 'a', T + 2 * HOUR_MS);
    expect((await settle(store, 'b', T + 3 * HOUR_MS)).rebuilds).toHaveLength(1);
    expect((await settle(store, 'late', T + 4 * HOUR_MS)).rebuilds).toEqual([]);
  });

  it('a job that could not pull all of it any more is named as lost beside paid', async () => {
    const store = await twoJobsOneDebt();
    const after = await settle(store, 'a', T + HOUR_MS, { lost: true });
    expect(after.rebuilds[0]).toMatchObject({ paid: { a: at(T + HOUR_MS) }, lost: { a: at(T + HOUR_MS) } });
  });

  it('a job gone quiet (unseen for JOB_ACTIVE_MS) holds no debt back', async () => {
    const store = await twoJobsOneDebt();
    await registerJob(store, BUCKET, PREFIX, 'a', [5, 6], T + JOB_ACTIVE_MS - HOUR_MS);
    expect((await settle(store, 'a', T + JOB_ACTIVE_MS)).rebuilds).toEqual([]);
  });

  it('a debt found corrupt again since the run was planned (a later foundAt) is not settled by it', async () => {
    const store = await twoJobsOneDebt();
    await recordRebuild(store, BUCKET, PREFIX, found(), T + HOUR_MS);
    const after = await settle(store, 'a', T + 2 * HOUR_MS);
    expect(after.rebuilds.map((d) => [d.key, d.foundAt, d.paid])).toEqual([[KEY, at(T + HOUR_MS), {}]]);
  });

  it('nothing settled: the ledger is read, not written', async () => {
    const store = await twoJobsOneDebt();
    const writes = store.writes.length;
    expect(await settleRebuilds(store, BUCKET, PREFIX, [], 'a', T + HOUR_MS)).toEqual(ledgerOf(store));
    expect(store.writes).toHaveLength(writes);
  });
});
