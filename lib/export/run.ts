import { randomBytes } from 'node:crypto';
import type { PacedClient } from '#lib/pace/paced-client.ts';
import { limiter } from '#lib/pace/pool.ts';
import { pull } from '#lib/status/pull.ts';
import { isSmsStatusError, UpstreamRejected, type SmsStatusError } from '#lib/tencent/errors.ts';
import { MAX_LIMIT } from '#lib/tencent/types.ts';
import { byShard, digest, objectKey, utcDay, type Window, type WindowSettings } from './plan.ts';
import { jobIdOf, resolveNumbers, windowOf, explicitWindow, type ExportRequest, type NumberDefaults } from './request.ts';
import { addPaceStats, emptyTotals, StateStore, type Failure, type Progress, type RunSummary } from './state.ts';
import type { ObjectStore } from './store.ts';
import { mergeInto, type ExportRecord } from './writer.ts';

export interface ExportSettings {
  bucket: string;
  prefix: string;
  sdkAppId: string;
  window: WindowSettings;
  /** Numbers pulled at once; the pacer still decides when each request goes. */
  concurrency: number;
  /** Shards exported side by side, so pulls go on while a chunk is being written. */
  shardConcurrency: number;
  /** Numbers pulled before their records are written and the progress saved. */
  chunkSize: number;
  /** Stop cleanly when less than this much time is left. */
  reserveMs: number;
  manifestMaxBytes: number;
  defaults: NumberDefaults;
}

export interface ExportProgressEvent {
  numbersDone: number;
  numbersTotal: number;
  records: number;
}

export interface ExportDeps {
  client: PacedClient;
  store: ObjectStore;
  /** Milliseconds since epoch. */
  now: () => number;
  /** Time left for this invocation (Lambda's getRemainingTimeInMillis). */
  remainingMs: () => number;
  onProgress?: (event: ExportProgressEvent) => void;
}

interface Pulled {
  phoneNumber: string;
  records: ExportRecord[];
  complete: boolean;
  error?: SmsStatusError;
}

/**
 * One invocation of an export: resumes the job's unfinished run or starts a new one, exports shard by
 * shard and chunk by chunk (saving progress after each), stops cleanly when time runs short, and
 * advances the checkpoint only once every number of the window is durably written.
 */
export async function runExport(deps: ExportDeps, settings: ExportSettings, request: ExportRequest): Promise<RunSummary> {
  const state = new StateStore(deps.store, settings.bucket, settings.prefix);
  const jobId = jobIdOf(request, settings.defaults);
  const resolved = await resolveNumbers(request, settings.defaults, deps.store, settings.manifestMaxBytes);
  const numbersDigest = digest(resolved.numbers);
  const progress = (await resumable(state, jobId, numbersDigest)) ?? (await fresh(state, jobId, request, numbersDigest, deps, settings));
  progress.totals.invocations += 1;
  deps.client.deadlineAt = deps.now() + deps.remainingMs() - settings.reserveMs / 2;
  const paceBefore = { ...deps.client.stats };
  const shards = byShard(resolved.numbers);
  const shardSlot = limiter(settings.shardConcurrency);
  const report = (): void =>
    deps.onProgress?.({ numbersDone: progress.totals.numbersDone, numbersTotal: resolved.numbers.length, records: progress.totals.records });

  // One pull slot pool for all shards; progress saves are chained so the last one written is the newest.
  const slot = limiter(settings.concurrency);
  let saving = Promise.resolve();
  const save = (): Promise<void> => (saving = saving.then(() => state.saveProgress(jobId, progress)));
  let aborted = false;

  const exportChunk = async (shard: number, numbers: string[]): Promise<Pulled[]> => {
    const pulled = await Promise.all(numbers.map((n) => slot(() => pullNumber(deps.client, n, progress.window, settings.sdkAppId))));
    const fatal = pulled.find((p) => p.error instanceof UpstreamRejected);
    if (fatal?.error) throw fatal.error;
    progress.totals.objectsWritten += await write(deps.store, settings, shard, pulled.flatMap((p) => p.records));
    return pulled;
  };

  let finished = true;
  const transient: string[] = [];
  const exportShard = async (shard: number): Promise<void> => {
    const numbers = shards[shard] as string[];
    let index = progress.cursors[shard] ?? 0;
    while (index < numbers.length) {
      if (aborted || deps.remainingMs() < settings.reserveMs) {
        finished = false;
        return;
      }
      const chunk = numbers.slice(index, index + settings.chunkSize);
      const pulled = await exportChunk(shard, chunk);
      account(progress, pulled, transient);
      index += chunk.length;
      progress.cursors[shard] = index;
      await save();
      report();
    }
    progress.shardsDone.push(shard);
    delete progress.cursors[shard];
  };

  try {
    const todo = shards.map((_, shard) => shard).filter((shard) => !progress.shardsDone.includes(shard));
    const outcomes = await Promise.allSettled(
      todo.map((shard) => shardSlot(() => exportShard(shard).catch((error: unknown) => ((aborted = true), Promise.reject(error))))),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    if (finished && transient.length > 0 && deps.remainingMs() >= settings.reserveMs) {
      // A second chance for numbers that kept failing: Tencent may have recovered.
      const retried = await retryTransient(transient.splice(0), exportChunk);
      progress.totals.failures = progress.totals.failures.filter((f) => f.kind !== 'transient' || !retried.ok.has(f.phoneNumber));
      progress.totals.numbersDone += retried.ok.size;
      countRecords(progress, retried.pulled.filter((p) => !p.error));
      transient.push(...retried.failed);
    }
  } finally {
    addPaceStats(progress.totals, paceBefore, deps.client.stats);
  }
  return finish({ deps, state, jobId, request, progress, resolved, finished, transientLeft: transient.length > 0 || progress.totals.failures.some((f) => f.kind === 'transient') });
}

async function resumable(state: StateStore, jobId: string, numbersDigest: string): Promise<Progress | undefined> {
  const progress = await state.progress(jobId);
  if (!progress) return undefined;
  if (progress.numbersDigest !== numbersDigest) {
    // The list changed since the run stopped: keep its window, but redo every shard (writes are unions).
    return { ...progress, numbersDigest, shardsDone: [], cursors: {} };
  }
  return progress;
}

async function fresh(state: StateStore, jobId: string, request: ExportRequest, numbersDigest: string, deps: ExportDeps, settings: ExportSettings): Promise<Progress> {
  const checkpoint = explicitWindow(request) ? undefined : await state.checkpoint(jobId);
  const nowSeconds = Math.floor(deps.now() / 1000);
  return {
    runId: `${new Date(deps.now()).toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(4).toString('hex')}`,
    startedAt: new Date(deps.now()).toISOString(),
    window: windowOf(request, checkpoint?.endTime, nowSeconds, settings.window),
    numbersDigest,
    shardsDone: [],
    cursors: {},
    totals: emptyTotals(),
  };
}

async function pullNumber(client: PacedClient, phoneNumber: string, window: Window, sdkAppId: string): Promise<Pulled> {
  try {
    // A long window of a busy number can take many requests; the pull's own bound still applies.
    const result = await pull(client, { phoneNumber, ...window, limit: MAX_LIMIT, all: true }, { maxRequests: 10_000, concurrency: 2 });
    return { phoneNumber, records: result.records.map((r) => ({ ...r, sdkAppId })), complete: result.complete };
  } catch (error) {
    if (!isSmsStatusError(error)) throw error;
    return { phoneNumber, records: [], complete: false, error };
  }
}

async function write(store: ObjectStore, settings: ExportSettings, shard: number, records: ExportRecord[]): Promise<number> {
  const byDay = new Map<string, ExportRecord[]>();
  for (const record of records) {
    const day = utcDay(record.userReceiveTime);
    let list = byDay.get(day);
    if (!list) byDay.set(day, (list = []));
    list.push(record);
  }
  for (const [day, list] of byDay) await mergeInto(store, settings.bucket, objectKey(settings.prefix, day, shard), list);
  return byDay.size;
}

function failureOf(p: Pulled): Failure {
  const error = p.error as SmsStatusError;
  return {
    phoneNumber: p.phoneNumber,
    kind: error.retryable ? 'transient' : 'rejected',
    code: error.code,
    message: error.detail,
    requestId: error.requestId,
  };
}

function account(progress: Progress, pulled: Pulled[], transient: string[]): void {
  for (const p of pulled) {
    if (!p.error) continue;
    const failure = failureOf(p);
    progress.totals.failures.push(failure);
    if (failure.kind === 'transient') transient.push(p.phoneNumber);
  }
  progress.totals.numbersDone += pulled.filter((p) => !p.error || !p.error.retryable).length;
  countRecords(progress, pulled);
}

function countRecords(progress: Progress, pulled: Pulled[]): void {
  for (const p of pulled) {
    if (!p.complete && !p.error) progress.totals.incompleteNumbers.push(p.phoneNumber);
    for (const record of p.records) {
      progress.totals.records += 1;
      progress.totals.recordsByStatus[record.reportStatus] = (progress.totals.recordsByStatus[record.reportStatus] ?? 0) + 1;
    }
  }
}

async function retryTransient(
  numbers: string[],
  exportChunk: (shard: number, numbers: string[]) => Promise<Pulled[]>,
): Promise<{ ok: Set<string>; failed: string[]; pulled: Pulled[] }> {
  const shards = byShard(numbers);
  const pulled: Pulled[] = [];
  for (let shard = 0; shard < shards.length; shard++) {
    if ((shards[shard] as string[]).length > 0) pulled.push(...(await exportChunk(shard, shards[shard] as string[])));
  }
  return {
    ok: new Set(pulled.filter((p) => !p.error).map((p) => p.phoneNumber)),
    failed: pulled.filter((p) => p.error).map((p) => p.phoneNumber),
    pulled,
  };
}

interface FinishArgs {
  deps: ExportDeps;
  state: StateStore;
  jobId: string;
  request: ExportRequest;
  progress: Progress;
  resolved: Awaited<ReturnType<typeof resolveNumbers>>;
  finished: boolean;
  transientLeft: boolean;
}

async function finish({ deps, state, jobId, request, progress, resolved, finished, transientLeft }: FinishArgs): Promise<RunSummary> {
  const complete = finished && !transientLeft;
  const advance = complete && !explicitWindow(request);
  if (advance) {
    await state.saveCheckpoint(jobId, { endTime: progress.window.endTime, runId: progress.runId, updatedAt: new Date(deps.now()).toISOString() });
  }
  // A finished run leaves no progress behind; with numbers still failing, the next run redoes the window.
  if (finished) await state.clearProgress(jobId);
  else await state.saveProgress(jobId, progress);
  const summary: RunSummary = {
    runId: progress.runId,
    jobId,
    startedAt: progress.startedAt,
    finishedAt: new Date(deps.now()).toISOString(),
    durationMs: deps.now() - Date.parse(progress.startedAt),
    window: progress.window,
    numbersTotal: resolved.numbers.length,
    ...progress.totals,
    complete,
    checkpointAdvanced: advance,
    manifestProblems: resolved.problems,
    manifestProblemCount: resolved.problemCount,
    duplicateNumbers: resolved.duplicates,
  };
  await state.saveSummary(summary);
  return summary;
}
