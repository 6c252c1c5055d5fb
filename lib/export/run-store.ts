import { groupPart, runKey, runPrefix, summaryKey } from '#lib/lake/layout.ts';
import {
  conditionFor,
  readJson,
  updateJson,
  writeJson,
  type ListingStore,
  type Versioned,
  type WriteCondition,
} from '#lib/lake/store.ts';
import { emptyTotals, type RunTotals } from './totals.ts';
import type { ManifestProblem, OwedWindow, Plan, RunSummary } from './types.ts';

/** A run, named: what a workflow step's event is trusted for. */
export interface RunRef {
  jobId: string;
  runId: string;
}

/** The run's state is gone: another invocation of the job committed the run and cleared it. */
export class RunCleared extends Error {
  override readonly name = 'RunCleared';
}

/** A group's frozen share of a run: its numbers, and the windows it owed when the run began. */
export interface GroupWork {
  numbers: string[];
  owed: OwedWindow[];
}

/** Where one group of a run stands (its ledger): the next invocation resumes here. */
export interface GroupProgress {
  group: number;
  /** Numbers of the frozen work already pulled and written, in its order. */
  cursor: number;
  /** Passes given to the numbers that failed transiently in this run (one per invocation). */
  chances: number;
  done: boolean;
  totals: RunTotals;
  /** What this group owes after this run: its failing and incomplete windows. */
  owed: OwedWindow[];
}

/** A group no invocation has started: nothing pulled, no chance given, nothing owed. */
export function newProgress(group: number): GroupProgress {
  return { group, cursor: 0, chances: 0, done: false, totals: emptyTotals(), owed: [] };
}

/** State written before owed windows had that name calls them `pending`. */
type Written<T> = T & { pending?: OwedWindow[] };
function owedOf<T extends { owed: OwedWindow[] }>(value: Written<T>): T {
  const { pending, ...rest } = value;
  return { ...(rest as unknown as T), owed: value.owed ?? pending ?? [] };
}

/**
 * One run's objects (docs/lake.md draws their life): under `_state/<job>/runs/<run>/` its plan, frozen
 * work, progress per group, shard list and manifest problems, deleted once it commits; under `_runs/` its
 * summary, which says `finished` once it has. Built once per invocation.
 */
export class RunStore {
  readonly #store: ListingStore;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(store: ListingStore, bucket: string, prefix: string) {
    this.#store = store;
    this.#bucket = bucket;
    this.#prefix = prefix;
  }

  #key({ jobId, runId }: RunRef, name: string): string {
    return runKey(this.#prefix, jobId, runId, name);
  }

  #read<T>(key: string): Promise<Versioned<T> | undefined> {
    return readJson<T>(this.#store, this.#bucket, key);
  }

  #write(key: string, value: unknown, condition: WriteCondition): Promise<string> {
    return writeJson(this.#store, this.#bucket, key, value, condition);
  }

  /** Where the shard list of a run lies, for a Distributed Map's ItemReader. */
  shardListKey(run: RunRef): string {
    return this.#key(run, 'shards');
  }

  /** Written once, by the plan step; an earlier try of it wrote the same (the plan, its frozen work). */
  async #writeOnce(key: string, value: unknown): Promise<void> {
    await this.#write(key, value, conditionFor(undefined)).catch(async (error: unknown) => {
      if (!(await this.#read(key))) throw error;
    });
  }

  /** Keeps the plan with the run: a workflow step's event names the run, and this is what it planned. */
  savePlan(plan: Plan): Promise<void> {
    return this.#writeOnce(this.#key(plan, 'plan'), plan);
  }

  async plan(run: RunRef): Promise<Plan | undefined> {
    return (await this.#read<Plan>(this.#key(run, 'plan')))?.value;
  }

  async saveShardList(plan: Plan): Promise<void> {
    await this.#write(plan.shardList.key, plan.shards, { ifNoneMatch: '*' });
  }

  /**
   * Every manifest problem the plan listed (the plan itself carries a sample): the commit puts them in the S3 summary.
   */
  async saveProblems(run: RunRef, problems: ManifestProblem[]): Promise<void> {
    await this.#write(this.#key(run, 'problems'), problems, {});
  }

  async problems(run: RunRef): Promise<ManifestProblem[] | undefined> {
    return (await this.#read<ManifestProblem[]>(this.#key(run, 'problems')))?.value;
  }

  /** Freezes a group's work for the run: written once, read by every invocation that follows. */
  saveWork(run: RunRef, group: number, work: GroupWork): Promise<void> {
    return this.#writeOnce(this.#key(run, `work/${groupPart(group)}`), work);
  }

  async work(run: RunRef, group: number): Promise<GroupWork> {
    const work = await this.#read<Written<GroupWork>>(this.#key(run, `work/${groupPart(group)}`));
    if (!work)
      throw new RunCleared(
        `the run ${run.runId} has no frozen work for group ${group}: another invocation committed it`,
      );
    return owedOf(work.value);
  }

  async groupProgress(run: RunRef, group: number): Promise<Versioned<GroupProgress> | undefined> {
    const saved = await this.#read<Written<GroupProgress>>(this.#key(run, groupPart(group)));
    return saved && { etag: saved.etag, value: owedOf(saved.value) };
  }

  /** Saves on condition of the version this invocation holds: a 412 means another invocation runs the same group. */
  saveGroupProgress(run: RunRef, progress: GroupProgress, etag: string | undefined): Promise<string> {
    return this.#write(this.#key(run, groupPart(progress.group)), progress, conditionFor(etag));
  }

  /**
   * Saves the run's summary (with every manifest problem, where the plan listed only a sample), unless the
   * run was committed meanwhile. Answers the summary that stands, with the plan's sample of problems:
   * what a workflow carries stays small.
   */
  async saveSummary(summary: RunSummary, allProblems?: ManifestProblem[]): Promise<RunSummary> {
    const stored = allProblems ? { ...summary, manifestProblems: allProblems } : summary;
    const key = summaryKey(this.#prefix, summary.runId);
    const held = await updateJson<RunSummary>(this.#store, this.#bucket, key, (current) =>
      current?.finished ? undefined : stored,
    );
    return { ...(held ?? stored), manifestProblems: summary.manifestProblems };
  }

  /** The run's summary as last saved: one that says `finished` is the mark of a committed run. */
  async summary(run: RunRef): Promise<RunSummary | undefined> {
    return (await this.#read<RunSummary>(summaryKey(this.#prefix, run.runId)))?.value;
  }

  /**
   * Deletes what a committed run kept under runs/<runId>/: whatever is there, so a clean-up cut off at
   * any point (the plan gone, a group's progress left) is finished by the next step that meets the run.
   * The plan goes last: while anything else is left, the run can still be found and cleared.
   */
  async clear(run: RunRef): Promise<void> {
    const keys = await this.#store.list(this.#bucket, runPrefix(this.#prefix, run.jobId, run.runId));
    const plan = this.#key(run, 'plan');
    for (const key of keys.filter((k) => k !== plan)) await this.#store.delete(this.#bucket, key);
    if (keys.includes(plan)) await this.#store.delete(this.#bucket, plan);
  }
}
