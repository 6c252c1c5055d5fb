import { randomBytes } from 'node:crypto';
import type { PacedClient } from '#lib/pace/paced-client.ts';
import { exportGroups } from './groups.ts';
import { byGroup, digest, type WindowSettings } from './plan.ts';
import { explicitWindow, jobIdOf, resolveNumbers, windowOf, type ExportRequest, type NumberDefaults, numberReport, type NumberReport } from './request.ts';
import { emptyTotals, StateStore, type Progress, type RunSummary } from './state.ts';
import type { ObjectStore } from './store.ts';

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

/**
 * One invocation of an export: resumes the job's unfinished run or starts a new one, exports group by
 * group (saving progress after each chunk), stops cleanly when time runs short, and advances the
 * checkpoint only once every number of the window is durably written.
 */
export async function runExport(deps: ExportDeps, settings: ExportSettings, request: ExportRequest): Promise<RunSummary> {
  const state = new StateStore(deps.store, settings.bucket, settings.prefix);
  const jobId = jobIdOf(request, settings.defaults);
  const resolved = await resolveNumbers(request, settings.defaults, deps.store, settings.manifestMaxBytes);
  const numbersDigest = digest(resolved.numbers);
  const progress = (await resumable(state, jobId, numbersDigest)) ?? (await freshProgress(state, jobId, request, numbersDigest, deps, settings));
  progress.totals.invocations += 1;
  const { stopped } = await exportGroups(deps, settings, {
    progress,
    groups: byGroup(resolved.numbers),
    numbersTotal: resolved.numbers.length,
    save: () => state.saveProgress(jobId, progress),
  });
  const finished = !stopped;
  // A finished run leaves no progress behind; with numbers still failing, the next run redoes the window.
  if (finished) await state.clearProgress(jobId);
  else await state.saveProgress(jobId, progress);
  return finishRun({ deps, state, jobId, request, progress, numbers: numberReport(resolved), finished });
}

async function resumable(state: StateStore, jobId: string, numbersDigest: string): Promise<Progress | undefined> {
  const progress = await state.progress(jobId);
  if (!progress) return undefined;
  if (progress.numbersDigest === numbersDigest) return progress;
  // The list changed since the run stopped: keep its window, but redo every group (writes are unions)
  // and count the numbers afresh; the requests already made still count.
  const { requests, retries, throttles, invocations } = progress.totals;
  return { ...progress, numbersDigest, groupsDone: [], cursors: {}, totals: { ...emptyTotals(), requests, retries, throttles, invocations } };
}

export async function freshProgress(
  state: StateStore,
  jobId: string,
  request: ExportRequest,
  numbersDigest: string,
  deps: Pick<ExportDeps, 'now'>,
  settings: ExportSettings,
): Promise<Progress> {
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

export interface FinishArgs {
  deps: Pick<ExportDeps, 'now'>;
  state: StateStore;
  jobId: string;
  request: ExportRequest;
  progress: Progress;
  numbers: NumberReport;
  finished: boolean;
}

/** Advances the checkpoint when the whole window is written, and writes the run summary. */
export async function finishRun({ deps, state, jobId, request, progress, numbers, finished }: FinishArgs): Promise<RunSummary> {
  const complete = finished && !progress.totals.failures.some((f) => f.kind === 'transient');
  const advance = complete && !explicitWindow(request);
  if (advance) {
    await state.saveCheckpoint(jobId, { endTime: progress.window.endTime, runId: progress.runId, updatedAt: new Date(deps.now()).toISOString() });
  }
  const summary: RunSummary = {
    runId: progress.runId,
    jobId,
    startedAt: progress.startedAt,
    finishedAt: new Date(deps.now()).toISOString(),
    durationMs: deps.now() - Date.parse(progress.startedAt),
    window: progress.window,
    numbersTotal: numbers.total,
    ...progress.totals,
    complete,
    checkpointAdvanced: advance,
    manifestProblems: numbers.problems,
    manifestProblemCount: numbers.problemCount,
    duplicateNumbers: numbers.duplicates,
  };
  await state.saveSummary(summary);
  return summary;
}
