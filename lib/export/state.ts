import { groupPart, jobKey, runKey, runPrefix, summaryKey } from '#lib/lake/layout.ts';
import { coalescePending } from './pending.ts';
import { readJson, updateJson, writeJson, conditionFor, type ListingStore, type Versioned, type WriteCondition } from '#lib/lake/store.ts';
import type { ManifestProblem, PendingWindow, Plan, RunSummary, RunTotals } from './types.ts';

/** A run, named: what a workflow step's event is trusted for. */
export interface RunRef {
  jobId: string;
  runId: string;
}

/** The run's state is gone: another invocation of the job committed the run and cleared it. */
export class RunCleared extends Error {
  override readonly name = 'RunCleared';
}

/** Samples kept beside each count: enough to act on, never enough to outgrow a payload. */
export const MAX_SAMPLE = 20;

export interface Checkpoint {
  endTime: number;
  runId: string;
  updatedAt: string;
}

/** A group's frozen share of a run: its numbers, and the windows it owed when the run began. */
export interface GroupWork {
  numbers: string[];
  pending: PendingWindow[];
}

/** Where one group of a run stands; the next invocation resumes here. */
export interface GroupProgress {
  group: number;
  /** Work items (numbers) already pulled and written, in the order of the frozen work. */
  cursor: number;
  /** Passes given to the numbers that failed transiently in this run (one per invocation). */
  chances: number;
  done: boolean;
  totals: RunTotals;
  /** What this group owes after this run: its failing, incomplete and rebuilt windows. */
  pending: PendingWindow[];
}

/** A group no invocation has started: nothing pulled, no chance given, nothing owed. */
export function newProgress(group: number): GroupProgress {
  return { group, cursor: 0, chances: 0, done: false, totals: emptyTotals(), pending: [] };
}

export function emptyTotals(): RunTotals {
  return {
    numbersDone: 0,
    records: 0,
    recordsByStatus: {},
    failureCount: 0,
    failures: [],
    incompleteCount: 0,
    incompleteNumbers: [],
    pendingWindows: 0,
    stuckCount: 0,
    stuckNumbers: [],
    retentionGapSeconds: 0,
    gapNumbers: [],
    gapCount: 0,
    corruptObjects: [],
    lostObjects: [],
    requests: 0,
    retries: 0,
    throttles: 0,
    objectsWritten: 0,
    invocations: 0,
  };
}

export function sample<T>(list: T[], more: T[]): T[] {
  return list.length >= MAX_SAMPLE ? list : [...list, ...more].slice(0, MAX_SAMPLE);
}

/** Adds `more` into `into`: counts summed, samples filled up to their cap. */
export function addTotals(into: RunTotals, more: RunTotals): RunTotals {
  const counts = ['numbersDone', 'records', 'failureCount', 'incompleteCount', 'pendingWindows', 'stuckCount', 'retentionGapSeconds', 'gapCount', 'requests', 'retries', 'throttles', 'objectsWritten', 'invocations'] as const;
  for (const name of counts) into[name] += more[name];
  for (const [status, n] of Object.entries(more.recordsByStatus)) into.recordsByStatus[status] = (into.recordsByStatus[status] ?? 0) + n;
  into.failures = sample(into.failures, more.failures);
  into.incompleteNumbers = sample(into.incompleteNumbers, more.incompleteNumbers);
  into.stuckNumbers = sample(into.stuckNumbers, more.stuckNumbers);
  into.gapNumbers = sample(into.gapNumbers, more.gapNumbers);
  into.corruptObjects = sample(into.corruptObjects, more.corruptObjects);
  into.lostObjects = sample(into.lostObjects, more.lostObjects);
  return into;
}

/**
 * The export's own keys under EXPORT_PREFIX/_state/<job>/, apart from the data so Athena never reads
 * them. Every write is conditional: a second writer of the same state is detected, never overwritten.
 */
export class StateStore {
  readonly #store: ListingStore;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(store: ListingStore, bucket: string, prefix: string) {
    this.#store = store;
    this.#bucket = bucket;
    this.#prefix = prefix;
  }

  #key(jobId: string, name: string): string {
    return jobKey(this.#prefix, jobId, name);
  }

  #read<T>(key: string): Promise<Versioned<T> | undefined> {
    return readJson<T>(this.#store, this.#bucket, key);
  }

  #write(key: string, value: unknown, condition: WriteCondition): Promise<string> {
    return writeJson(this.#store, this.#bucket, key, value, condition);
  }

  async checkpoint(jobId: string): Promise<Checkpoint | undefined> {
    return (await this.#read<Checkpoint>(this.#key(jobId, 'checkpoint')))?.value;
  }

  /** The checkpoint only moves forward, whatever order two runs of the job commit in. */
  /** Moves the job's checkpoint up to `checkpoint` (never back), and answers where it stands after. */
  advanceCheckpoint(jobId: string, checkpoint: Checkpoint): Promise<Checkpoint | undefined> {
    return updateJson<Checkpoint>(this.#store, this.#bucket, this.#key(jobId, 'checkpoint'), (current) =>
      current && current.endTime >= checkpoint.endTime ? undefined : checkpoint,
    );
  }

  async pending(jobId: string, group: number): Promise<PendingWindow[]> {
    return (await this.#read<PendingWindow[]>(this.#key(jobId, `pending/${groupPart(group)}`)))?.value ?? [];
  }

  /**
   * The committed windows a group owes: the entries this run consumed give way to what it still owes;
   * entries another run added meanwhile stay. Each number's overlapping windows are kept as one (two
   * overlapping runs that consumed the same entry both owe it again). Applying it twice changes nothing.
   */
  async replacePending(jobId: string, group: number, consumed: PendingWindow[], owed: PendingWindow[]): Promise<void> {
    const entry = (p: PendingWindow): string => `${p.runId}|${p.phoneNumber}|${p.beginTime}|${p.endTime}`;
    const gone = new Set(consumed.map(entry));
    await updateJson<PendingWindow[]>(this.#store, this.#bucket, this.#key(jobId, `pending/${groupPart(group)}`), (current = []) => {
      const next = coalescePending([...current.filter((p) => !gone.has(entry(p))), ...owed]);
      if (next.length === 0 && current.length === 0) return undefined;
      return next.length === current.length && next.every((p, i) => entry(p) === entry(current[i] as PendingWindow)) ? undefined : next;
    });
  }

  /** Counts an invocation of the job's run under way (a plain run), and answers it; undefined if none is. */
  countInvocation(jobId: string): Promise<Plan | undefined> {
    return updateJson<Plan>(this.#store, this.#bucket, this.#key(jobId, 'run'), (current) =>
      current ? { ...current, invocations: (current.invocations ?? 0) + 1 } : undefined,
    );
  }

  /** Creates the job's run as its first invocation; if another invocation created one first, joins that one. */
  async startRun(jobId: string, plan: Plan): Promise<Plan> {
    try {
      await this.#write(this.#key(jobId, 'run'), { ...plan, invocations: 1 }, { ifNoneMatch: '*' });
      return { ...plan, invocations: 1 };
    } catch (error) {
      const other = await this.countInvocation(jobId);
      if (other) return other;
      throw error;
    }
  }

  endRun(jobId: string): Promise<void> {
    return this.#store.delete(this.#bucket, this.#key(jobId, 'run'));
  }

  runKey(jobId: string, runId: string, name: string): string {
    return runKey(this.#prefix, jobId, runId, name);
  }

  /** Freezes a group's work for the run: written once, read by every invocation that follows. */
  async saveWork(plan: Plan, group: number, work: GroupWork): Promise<void> {
    await this.#write(this.runKey(plan.jobId, plan.runId, `work/${groupPart(group)}`), work, conditionFor(undefined)).catch(async (error: unknown) => {
      // Written already by an earlier try of the plan step: the frozen work stands.
      if (!(await this.#read(this.runKey(plan.jobId, plan.runId, `work/${groupPart(group)}`)))) throw error;
    });
  }

  async work(plan: Plan, group: number): Promise<GroupWork> {
    const work = await this.#read<GroupWork>(this.runKey(plan.jobId, plan.runId, `work/${groupPart(group)}`));
    if (!work) throw new RunCleared(`the run ${plan.runId} has no frozen work for group ${group}: another invocation committed it`);
    return work.value;
  }

  groupProgress(plan: Plan, group: number): Promise<Versioned<GroupProgress> | undefined> {
    return this.#read<GroupProgress>(this.runKey(plan.jobId, plan.runId, groupPart(group)));
  }

  /** Saves on condition of the version this invocation holds: a 412 means another invocation runs the same group. */
  saveGroupProgress(plan: Plan, progress: GroupProgress, etag: string | undefined): Promise<string> {
    return this.#write(this.runKey(plan.jobId, plan.runId, groupPart(progress.group)), progress, conditionFor(etag));
  }

  async saveShardList(plan: Plan): Promise<void> {
    await this.#write(plan.shardList.key, plan.shards, { ifNoneMatch: '*' });
  }

  /**
   * Deletes what a committed run kept under runs/<runId>/: whatever is there, so a clean-up cut off at
   * any point (the plan gone, a group's progress left) is finished by the next step that meets the run.
   * The plan goes last: while anything else is left, the run can still be found and cleared.
   */
  async clearRun({ jobId, runId }: RunRef): Promise<void> {
    const keys = await this.#store.list(this.#bucket, runPrefix(this.#prefix, jobId, runId));
    const plan = this.runKey(jobId, runId, 'plan');
    for (const key of keys.filter((k) => k !== plan)) await this.#store.delete(this.#bucket, key);
    if (keys.includes(plan)) await this.#store.delete(this.#bucket, plan);
  }

  /** Every manifest problem the plan listed (the plan itself carries a sample): the commit puts them in the S3 summary. */
  async saveProblems(plan: Plan, problems: ManifestProblem[]): Promise<void> {
    await this.#write(this.runKey(plan.jobId, plan.runId, 'problems'), problems, {});
  }

  async problems(run: RunRef): Promise<ManifestProblem[] | undefined> {
    return (await this.#read<ManifestProblem[]>(this.runKey(run.jobId, run.runId, 'problems')))?.value;
  }

  /** Keeps the plan with the run: a workflow step's event names the run, and this is what it planned. */
  async savePlan(plan: Plan): Promise<void> {
    await this.#write(this.runKey(plan.jobId, plan.runId, 'plan'), plan, { ifNoneMatch: '*' }).catch(async (error: unknown) => {
      // Written already by an earlier try of the plan step.
      if (!(await this.storedPlan(plan))) throw error;
    });
  }

  async storedPlan({ jobId, runId }: RunRef): Promise<Plan | undefined> {
    return (await this.#read<Plan>(this.runKey(jobId, runId, 'plan')))?.value;
  }

  /**
   * Saves the run's summary (with every manifest problem, where the plan listed only a sample), unless the
   * run was committed meanwhile. Answers the summary that stands, with the plan's sample of problems:
   * what a workflow carries stays small.
   */
  async saveSummary(summary: RunSummary, allProblems?: ManifestProblem[]): Promise<RunSummary> {
    const stored = allProblems ? { ...summary, manifestProblems: allProblems } : summary;
    const held = await updateJson<RunSummary>(this.#store, this.#bucket, this.#summaryKey(summary), (current) => (current?.finished ? undefined : stored));
    return { ...(held ?? stored), manifestProblems: summary.manifestProblems };
  }

  /** The run's summary as last saved: one that says `finished` is the mark of a committed run. */
  async summary(run: RunRef): Promise<RunSummary | undefined> {
    return (await this.#read<RunSummary>(this.#summaryKey(run)))?.value;
  }

  /** Under the day the run started, which its id begins with (YYYYMMDDThhmmssZ-…). */
  #summaryKey({ runId }: { runId: string }): string {
    return summaryKey(this.#prefix, runId);
  }
}
