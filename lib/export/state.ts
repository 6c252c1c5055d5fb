import type { PaceStats } from '#lib/pace/paced-client.ts';
import type { ErrorName } from '#lib/tencent/errors.ts';
import type { ManifestProblem } from './manifest.ts';
import type { Window } from './plan.ts';
import { readJson, writeJson, type ObjectStore } from './store.ts';

export interface Failure {
  phoneNumber: string;
  /** rejected: Tencent refused the number (never retried); transient: still failing after retries. */
  kind: 'rejected' | 'transient';
  /** The error's taxonomy name. */
  name: ErrorName;
  code: string;
  message: string;
  requestId?: string;
}

/** What a run did, accumulated over the invocations that a long run takes. */
export interface RunTotals {
  numbersDone: number;
  records: number;
  recordsByStatus: Record<string, number>;
  incompleteNumbers: string[];
  failures: Failure[];
  requests: number;
  retries: number;
  throttles: number;
  objectsWritten: number;
  invocations: number;
}

/** Where an unfinished run stands: the next invocation of the same job resumes here. */
export interface Progress {
  runId: string;
  startedAt: string;
  window: Window;
  /** Digest of the resolved numbers: a changed list restarts the shards instead of misreading a cursor. */
  numbersDigest: string;
  /** Groups whose numbers are all written for the window. */
  groupsDone: number[];
  /** Numbers already written of each group under way, by group. */
  cursors: Record<number, number>;
  totals: RunTotals;
}

export interface Checkpoint {
  endTime: number;
  runId: string;
  updatedAt: string;
}

export interface RunSummary extends RunTotals {
  runId: string;
  jobId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  window: Window;
  numbersTotal: number;
  /** True once every number of the window is exported (or rejected by Tencent). */
  complete: boolean;
  checkpointAdvanced: boolean;
  manifestProblems: ManifestProblem[];
  manifestProblemCount: number;
  duplicateNumbers: number;
}

export function emptyTotals(): RunTotals {
  return {
    numbersDone: 0,
    records: 0,
    recordsByStatus: {},
    incompleteNumbers: [],
    failures: [],
    requests: 0,
    retries: 0,
    throttles: 0,
    objectsWritten: 0,
    invocations: 0,
  };
}

export function addPaceStats(totals: RunTotals, before: PaceStats, after: PaceStats): void {
  totals.requests += after.requests - before.requests;
  totals.retries += after.retries - before.retries;
  totals.throttles += after.throttles - before.throttles;
}

/** The export's own keys under EXPORT_PREFIX, apart from the data so Athena never reads them. */
export class StateStore {
  readonly #store: ObjectStore;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(store: ObjectStore, bucket: string, prefix: string) {
    this.#store = store;
    this.#bucket = bucket;
    this.#prefix = prefix;
  }

  #key(jobId: string, name: string): string {
    return `${this.#prefix}/_state/${jobId}/${name}.json`;
  }

  checkpoint(jobId: string): Promise<Checkpoint | undefined> {
    return readJson<Checkpoint>(this.#store, this.#bucket, this.#key(jobId, 'checkpoint'));
  }

  saveCheckpoint(jobId: string, checkpoint: Checkpoint): Promise<void> {
    return writeJson(this.#store, this.#bucket, this.#key(jobId, 'checkpoint'), checkpoint);
  }

  progress(jobId: string): Promise<Progress | undefined> {
    return readJson<Progress>(this.#store, this.#bucket, this.#key(jobId, 'progress'));
  }

  saveProgress(jobId: string, progress: Progress): Promise<void> {
    return writeJson(this.#store, this.#bucket, this.#key(jobId, 'progress'), progress);
  }

  clearProgress(jobId: string): Promise<void> {
    return this.#store.delete(this.#bucket, this.#key(jobId, 'progress'));
  }

  /** Step Functions runs keep each shard's progress, and the shard list the Map reads, under the run. */
  runKey(jobId: string, runId: string, name: string): string {
    return this.#key(jobId, `runs/${runId}/${name}`);
  }

  shardProgress(jobId: string, runId: string, shard: number): Promise<Progress | undefined> {
    return readJson<Progress>(this.#store, this.#bucket, this.runKey(jobId, runId, `shard-${shard}`));
  }

  saveShardProgress(jobId: string, runId: string, shard: number, progress: Progress): Promise<void> {
    return writeJson(this.#store, this.#bucket, this.runKey(jobId, runId, `shard-${shard}`), progress);
  }

  saveShardList(jobId: string, runId: string, items: unknown[]): Promise<void> {
    return writeJson(this.#store, this.#bucket, this.runKey(jobId, runId, 'shards'), items);
  }

  clearShard(jobId: string, runId: string, shard: number): Promise<void> {
    return this.#store.delete(this.#bucket, this.runKey(jobId, runId, `shard-${shard}`));
  }

  saveSummary(summary: RunSummary): Promise<void> {
    const key = `${this.#prefix}/_runs/dt=${summary.startedAt.slice(0, 10)}/${summary.runId}.json`;
    return writeJson(this.#store, this.#bucket, key, summary);
  }
}
