import { randomBytes } from 'node:crypto';
import type { PacedClient } from '#lib/pace/paced-client.ts';
import { limiter } from '#lib/pace/pool.ts';
import { pull } from '#lib/status/pull.ts';
import { isSmsStatusError, UpstreamRejected, type SmsStatusError } from '#lib/tencent/errors.ts';
import { MAX_LIMIT } from '#lib/tencent/types.ts';
import { byGroup, digest, objectKey, utcDay, type Window, type WindowSettings } from './plan.ts';
import { explicitWindow, jobIdOf, resolveNumbers, windowOf, type ExportRequest, type NumberDefaults, type ResolvedNumbers } from './request.ts';
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
  /** Groups exported side by side, so pulls go on while a chunk is being written. */
  groupConcurrency: number;
  /** Numbers of a group pulled before their records are written and the progress saved. */
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
 * One invocation of an export: resumes the job's unfinished run or starts a new one, exports group by
 * group (saving progress after each), stops cleanly when time runs short, and advances the checkpoint
 * only once every number of the window is durably written.
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
  const groups = byGroup(resolved.numbers);
  const done = new Set(progress.groupsDone);
  const slot = limiter(settings.concurrency);
  // Progress saves are chained so the last one written is the newest.
  let saving = Promise.resolve();
  let stopped = false;
  let aborted = false;

  const exportGroup = async (group: number, numbers: string[]): Promise<Pulled[]> => {
    const pulled = await Promise.all(numbers.map((n) => slot(() => pullNumber(deps.client, n, progress.window, settings.sdkAppId))));
    const fatal = pulled.find((p) => p.error instanceof UpstreamRejected);
    if (fatal?.error) throw fatal.error;
    progress.totals.objectsWritten += await write(deps.store, settings, group, pulled.flatMap((p) => p.records));
    return pulled;
  };

  const transient: Array<[number, string]> = [];
  const visit = async ([group, numbers]: [number, string[]]): Promise<void> => {
    for (let index = progress.cursors[group] ?? 0; index < numbers.length; ) {
      if (aborted || stopped || deps.remainingMs() < settings.reserveMs) {
        stopped = !aborted;
        return;
      }
      const chunk = numbers.slice(index, index + settings.chunkSize);
      const pulled = await exportGroup(group, chunk).catch((error: unknown) => {
        aborted = true;
        throw error;
      });
      account(progress, pulled);
      for (const p of pulled) if (p.error?.retryable) transient.push([group, p.phoneNumber]);
      index += chunk.length;
      progress.cursors[group] = index;
      saving = saving.then(() => state.saveProgress(jobId, progress));
      await saving;
      deps.onProgress?.({ numbersDone: progress.totals.numbersDone, numbersTotal: resolved.numbers.length, records: progress.totals.records });
    }
    progress.groupsDone.push(group);
    delete progress.cursors[group];
  };

  try {
    const todo = [...groups].filter(([group]) => !done.has(group));
    const groupSlot = limiter(settings.groupConcurrency);
    const outcomes = await Promise.allSettled(todo.map((entry) => groupSlot(() => visit(entry))));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    if (!stopped && transient.length > 0 && deps.remainingMs() >= settings.reserveMs) await retryTransient(transient, progress, exportGroup);
  } finally {
    addPaceStats(progress.totals, paceBefore, deps.client.stats);
  }
  return finish({ deps, state, jobId, request, progress, resolved, finished: !stopped });
}

async function resumable(state: StateStore, jobId: string, numbersDigest: string): Promise<Progress | undefined> {
  const progress = await state.progress(jobId);
  if (!progress) return undefined;
  // The list changed since the run stopped: keep its window, but redo every group (writes are unions).
  return progress.numbersDigest === numbersDigest ? progress : { ...progress, numbersDigest, groupsDone: [], cursors: {} };
}

async function fresh(state: StateStore, jobId: string, request: ExportRequest, numbersDigest: string, deps: ExportDeps, settings: ExportSettings): Promise<Progress> {
  const checkpoint = explicitWindow(request) ? undefined : await state.checkpoint(jobId);
  const now = deps.now();
  return {
    runId: `${new Date(now).toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(4).toString('hex')}`,
    startedAt: new Date(now).toISOString(),
    window: windowOf(request, checkpoint?.endTime, Math.floor(now / 1000), settings.window),
    numbersDigest,
    groupsDone: [],
    cursors: {},
    totals: emptyTotals(),
  };
}

async function pullNumber(client: PacedClient, phoneNumber: string, window: Window, sdkAppId: string): Promise<Pulled> {
  try {
    // A long window of a busy number can take many requests; the pull's own bound still applies.
    const result = await pull(client, { phoneNumber, ...window, limit: MAX_LIMIT, all: true }, { maxRequests: 10_000, concurrency: 2 });
    return { phoneNumber, records: result.records.map((r) => Object.assign(r, { sdkAppId })), complete: result.complete };
  } catch (error) {
    if (!isSmsStatusError(error)) throw error;
    return { phoneNumber, records: [], complete: false, error };
  }
}

async function write(store: ObjectStore, settings: ExportSettings, group: number, records: ExportRecord[]): Promise<number> {
  const byDay = new Map<string, ExportRecord[]>();
  for (const record of records) {
    const day = utcDay(record.userReceiveTime);
    let list = byDay.get(day);
    if (!list) byDay.set(day, (list = []));
    list.push(record);
  }
  for (const [day, list] of byDay) await mergeInto(store, settings.bucket, objectKey(settings.prefix, day, group), list);
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

/** Adds a group's outcome to the totals: records by status, and every number Tencent refused or kept failing. */
function account(progress: Progress, pulled: Pulled[]): void {
  const totals = progress.totals;
  for (const p of pulled) {
    if (p.error) {
      totals.failures.push(failureOf(p));
      if (!p.error.retryable) totals.numbersDone += 1;
      continue;
    }
    totals.numbersDone += 1;
    if (!p.complete) totals.incompleteNumbers.push(p.phoneNumber);
    totals.records += p.records.length;
    for (const record of p.records) totals.recordsByStatus[record.reportStatus] = (totals.recordsByStatus[record.reportStatus] ?? 0) + 1;
  }
}

/** A second chance for numbers that kept failing: Tencent may have recovered. */
async function retryTransient(
  transient: Array<[number, string]>,
  progress: Progress,
  exportGroup: (group: number, numbers: string[]) => Promise<Pulled[]>,
): Promise<void> {
  const byGroupId = new Map<number, string[]>();
  for (const [group, number] of transient) byGroupId.set(group, [...(byGroupId.get(group) ?? []), number]);
  for (const [group, numbers] of byGroupId) {
    const pulled = await exportGroup(group, numbers);
    const recovered = new Set(pulled.filter((p) => !p.error).map((p) => p.phoneNumber));
    progress.totals.failures = progress.totals.failures.filter((f) => !recovered.has(f.phoneNumber));
    account(progress, pulled.filter((p) => !p.error));
  }
}

interface FinishArgs {
  deps: ExportDeps;
  state: StateStore;
  jobId: string;
  request: ExportRequest;
  progress: Progress;
  resolved: ResolvedNumbers;
  finished: boolean;
}

async function finish({ deps, state, jobId, request, progress, resolved, finished }: FinishArgs): Promise<RunSummary> {
  const complete = finished && !progress.totals.failures.some((f) => f.kind === 'transient');
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
