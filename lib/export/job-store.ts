import { groupPart, jobKey } from '#lib/lake/layout.ts';
import { readJson, updateJson, writeJson, type ObjectStore } from '#lib/lake/store.ts';
import { coalesceOwed } from './owed.ts';
import type { OwedWindow, Plan } from './types.ts';

export interface Checkpoint {
  endTime: number;
  runId: string;
  updatedAt: string;
}

/**
 * A job's own state under `_state/<job>/`, which outlives its runs: its checkpoint, the windows each of
 * its groups still owes, and the marker of a plain run under way (`run.json`). Every write is
 * conditional: a second writer of the same state is detected, never overwritten.
 */
export class JobStore {
  readonly #store: ObjectStore;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(store: ObjectStore, bucket: string, prefix: string) {
    this.#store = store;
    this.#bucket = bucket;
    this.#prefix = prefix;
  }

  #key(jobId: string, name: string): string {
    return jobKey(this.#prefix, jobId, name);
  }

  async checkpoint(jobId: string): Promise<Checkpoint | undefined> {
    return (await readJson<Checkpoint>(this.#store, this.#bucket, this.#key(jobId, 'checkpoint')))?.value;
  }

  /**
   * Moves the job's checkpoint up to `checkpoint` (never back, whatever order runs commit in); answers where it stands
   * after.
   */
  advanceCheckpoint(jobId: string, checkpoint: Checkpoint): Promise<Checkpoint | undefined> {
    return updateJson<Checkpoint>(this.#store, this.#bucket, this.#key(jobId, 'checkpoint'), (current) =>
      current && current.endTime >= checkpoint.endTime ? undefined : checkpoint,
    );
  }

  /** The windows a group owes (kept under `pending/part-GG.json`, the name its first version gave them). */
  async owed(jobId: string, group: number): Promise<OwedWindow[]> {
    return (
      (await readJson<OwedWindow[]>(this.#store, this.#bucket, this.#key(jobId, `pending/${groupPart(group)}`)))
        ?.value ?? []
    );
  }

  /**
   * The entries a run consumed give way to what it still owes; entries another run added meanwhile stay.
   * Each number's overlapping windows are kept as one (two overlapping runs that consumed the same entry
   * both owe it again). Applying it twice changes nothing.
   */
  async replaceOwed(jobId: string, group: number, consumed: OwedWindow[], owed: OwedWindow[]): Promise<void> {
    const entry = (p: OwedWindow): string => `${p.runId}|${p.phoneNumber}|${p.beginTime}|${p.endTime}`;
    const gone = new Set(consumed.map(entry));
    await updateJson<OwedWindow[]>(
      this.#store,
      this.#bucket,
      this.#key(jobId, `pending/${groupPart(group)}`),
      (current = []) => {
        const next = coalesceOwed([...current.filter((p) => !gone.has(entry(p))), ...owed]);
        if (next.length === 0 && current.length === 0) return undefined;
        return next.length === current.length && next.every((p, i) => entry(p) === entry(current[i] as OwedWindow))
          ? undefined
          : next;
      },
    );
  }

  /** The job's plain run under way, its invocations counted one more; undefined if none is. */
  resumeRun(jobId: string): Promise<Plan | undefined> {
    return updateJson<Plan>(this.#store, this.#bucket, this.#key(jobId, 'run'), (current) =>
      current ? { ...current, invocations: (current.invocations ?? 0) + 1 } : undefined,
    );
  }

  /** Creates the job's plain run as its first invocation; if another invocation created one first, joins that one. */
  async startRun(jobId: string, plan: Plan): Promise<Plan> {
    try {
      await writeJson(
        this.#store,
        this.#bucket,
        this.#key(jobId, 'run'),
        { ...plan, invocations: 1 },
        { ifNoneMatch: '*' },
      );
      return { ...plan, invocations: 1 };
    } catch (error) {
      const other = await this.resumeRun(jobId);
      if (other) return other;
      throw error;
    }
  }

  endRun(jobId: string): Promise<void> {
    return this.#store.delete(this.#bucket, this.#key(jobId, 'run'));
  }
}
