import { ledgerKey } from './layout.ts';
import { updateJson, readJson, type ObjectStore } from './store.ts';

/**
 * The lake's own ledger (`_lake/ledger.json`), apart from every job's state under `_state/`: the day objects found
 * corrupt and rebuilt, which every job must pull again for its numbers of that group, and the jobs that
 * export into the lake, so a debt clears only once each of them has paid it. One small object, written
 * on condition of the version read (updateJson), by any writer: a shard, a plain run, the inbox drain.
 */
export interface Rebuild {
  /** The day object that was rebuilt: statuses/dt=<day>/part-GG.jsonl.gz. */
  key: string;
  day: string;
  group: number;
  /** Where its corrupt versions were copied (a sample). */
  copies: string[];
  /** Numbers whose lines could still be read from it: they owe the day too, whichever job pays it. */
  numbersRead: string[];
  foundAt: string;
  /**
   * The active jobs owning the group when it was found: they owe it. A job planned later never had the
   * day's receipts from this lake, so it owes nothing (absent in ledgers written before: every owner).
   */
  owners?: string[];
  /** Jobs that pulled the day again (whole, or as much as Tencent still held: then `lost` says so too). */
  paid: Record<string, string>;
  /** Jobs that could not pull all of it any more (past Tencent's 7 days): they reported it as a gap. */
  lost: Record<string, string>;
}

export interface JobEntry {
  groups: number[];
  seenAt: string;
}

export interface Ledger {
  jobs: Record<string, JobEntry>;
  rebuilds: Rebuild[];
}

/** Samples kept per debt: enough to act on, never enough to grow the ledger without bound. */
const MAX_COPIES = 5;
const MAX_NUMBERS_READ = 1000;
/** A job unseen this long has stopped: past Tencent's 7 days it could pull nothing it owes anyway. */
export const JOB_ACTIVE_MS = 8 * 86_400_000;

export async function readLedger(store: ObjectStore, bucket: string, prefix: string): Promise<Ledger> {
  return (await readJson<Ledger>(store, bucket, ledgerKey(prefix)))?.value ?? { jobs: {}, rebuilds: [] };
}

export interface FoundCorrupt {
  key: string;
  movedTo: string;
  day: string;
  group: number;
  numbersRead: string[];
}

/** A writer rebuilt a corrupt day object: the debt is written at once, before the object is overwritten. */
export async function recordRebuild(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  found: FoundCorrupt,
  nowMs: number,
): Promise<void> {
  await updateJson<Ledger>(store, bucket, ledgerKey(prefix), (current = { jobs: {}, rebuilds: [] }) => {
    const known = current.rebuilds.find((debt) => debt.key === found.key);
    const others = current.rebuilds.filter((debt) => debt !== known);
    // Found corrupt again before every job paid: everyone owes it again, whatever they paid before.
    const debt: Rebuild = {
      key: found.key,
      day: found.day,
      group: found.group,
      copies: [...new Set([...(known?.copies ?? []), found.movedTo])].slice(0, MAX_COPIES),
      numbersRead: [...new Set([...(known?.numbersRead ?? []), ...found.numbersRead])].slice(0, MAX_NUMBERS_READ),
      foundAt: new Date(nowMs).toISOString(),
      owners: ownersOf(current.jobs, found.group, nowMs),
      paid: {},
      lost: {},
    };
    return { ...current, rebuilds: [...others, debt] };
  });
}

/** A job is planned: it owns these groups now. Written when they change, or once its entry grows stale. */
export async function registerJob(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  jobId: string,
  groups: number[],
  nowMs: number,
): Promise<void> {
  await updateJson<Ledger>(store, bucket, ledgerKey(prefix), (current = { jobs: {}, rebuilds: [] }) => {
    const entry = current.jobs[jobId];
    const same =
      entry && entry.groups.join() === groups.join() && nowMs - Date.parse(entry.seenAt) < JOB_ACTIVE_MS / 32;
    if (same) return undefined;
    const jobs = Object.fromEntries(
      Object.entries(current.jobs).filter(([, job]) => nowMs - Date.parse(job.seenAt) < JOB_ACTIVE_MS),
    );
    return { ...current, jobs: { ...jobs, [jobId]: { groups, seenAt: new Date(nowMs).toISOString() } } };
  });
}

/**
 * A run of `jobId` committed having pulled these debts' day again (`lost`: as much as Tencent still
 * held). A debt every active job owning its group has settled is gone; one found corrupt again since
 * the run was planned (a later foundAt) stays owed.
 */
export async function settleRebuilds(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  settled: Array<{ key: string; foundAt: string; lost: boolean }>,
  jobId: string,
  nowMs: number,
): Promise<Ledger> {
  if (settled.length === 0) return readLedger(store, bucket, prefix);
  const at = new Date(nowMs).toISOString();
  const after = await updateJson<Ledger>(store, bucket, ledgerKey(prefix), (current) => {
    if (!current) return undefined;
    const rebuilds = current.rebuilds.map((debt) => {
      const mine = settled.find((s) => s.key === debt.key && s.foundAt === debt.foundAt);
      if (!mine) return debt;
      return {
        ...debt,
        paid: { ...debt.paid, [jobId]: at },
        ...(mine.lost && { lost: { ...debt.lost, [jobId]: at } }),
      };
    });
    return { ...current, rebuilds: rebuilds.filter((debt) => !isSettled(debt, current.jobs, nowMs)) };
  });
  return after ?? { jobs: {}, rebuilds: [] };
}

/** Whether `jobId` owes the debt: one of its owners when it was found. */
export function owes(debt: Rebuild, jobId: string): boolean {
  return debt.owners?.includes(jobId) ?? true;
}

function ownersOf(jobs: Ledger['jobs'], group: number, nowMs: number): string[] {
  return Object.entries(jobs)
    .filter(([, job]) => job.groups.includes(group) && nowMs - Date.parse(job.seenAt) < JOB_ACTIVE_MS)
    .map(([jobId]) => jobId);
}

function isSettled(debt: Rebuild, jobs: Ledger['jobs'], nowMs: number): boolean {
  return ownersOf(jobs, debt.group, nowMs)
    .filter((jobId) => owes(debt, jobId))
    .every((jobId) => debt.paid[jobId] !== undefined);
}
