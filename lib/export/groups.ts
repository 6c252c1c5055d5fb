import type { PacedClient } from '#lib/pace/paced-client.ts';
import { limiter } from '#lib/pace/pool.ts';
import { pull } from '#lib/status/pull.ts';
import { isSmsStatusError, RateLimited, UpstreamRejected, UpstreamUnavailable, type SmsStatusError } from '#lib/tencent/errors.ts';
import { MAX_LIMIT } from '#lib/tencent/types.ts';
import { byGroup, groupOf, objectKey, utcDay, type Window } from './plan.ts';
import type { ExportDeps, ExportSettings } from './run.ts';
import { addPaceStats, type Failure, type Progress } from './state.ts';
import type { ObjectStore } from './store.ts';
import { mergeInto, type ExportRecord } from './writer.ts';

interface Pulled {
  phoneNumber: string;
  records: ExportRecord[];
  complete: boolean;
  error?: SmsStatusError;
}

export interface GroupWork {
  progress: Progress;
  /** The groups to export (all of a run, or one Step Functions shard's), by group id. */
  groups: Map<number, string[]>;
  numbersTotal: number;
  save(): Promise<void>;
}

/**
 * Exports groups side by side, each chunk by chunk: pull its numbers, merge their records into the
 * group's day objects, save the progress. Stops cleanly before a chunk when time runs short; a number
 * Tencent refuses is recorded and the rest go on; credentials or app refused abort the work.
 */
export async function exportGroups(deps: ExportDeps, settings: ExportSettings, work: GroupWork): Promise<{ stopped: boolean }> {
  const { progress } = work;
  deps.client.deadlineAt = deps.now() + deps.remainingMs() - settings.reserveMs / 2;
  const paceBefore = { ...deps.client.stats };
  const slot = limiter(settings.concurrency);
  // Saves are chained so the last one written is the newest.
  let saving = Promise.resolve();
  let stopped = false;
  let aborted = false;

  const exportGroup = async (group: number, numbers: string[]): Promise<Pulled[]> => {
    const pulled = await Promise.all(numbers.map((n) => slot(() => pullNumber(deps.client, n, progress.window, settings.sdkAppId))));
    const fatal = pulled.find((p) => p.error instanceof UpstreamRejected);
    if (fatal?.error) throw fatal.error;
    const written = await write(deps.store, settings, group, pulled.flatMap((p) => p.records));
    progress.totals.objectsWritten += written;
    return pulled;
  };

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
      index += chunk.length;
      progress.cursors[group] = index;
      saving = saving.then(() => work.save());
      await saving;
      deps.onProgress?.({ numbersDone: progress.totals.numbersDone, numbersTotal: work.numbersTotal, records: progress.totals.records });
    }
    progress.groupsDone.push(group);
    delete progress.cursors[group];
  };

  try {
    const done = new Set(progress.groupsDone);
    const todo = [...work.groups].filter(([group]) => !done.has(group));
    const groupSlot = limiter(settings.groupConcurrency);
    const outcomes = await Promise.allSettled(todo.map((entry) => groupSlot(() => visit(entry))));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    // Numbers that kept failing, in this invocation or an earlier one, get another chance at the end.
    const transient = progress.totals.failures.filter((f) => f.kind === 'transient' && work.groups.has(groupOf(f.phoneNumber)));
    if (!stopped && transient.length > 0 && deps.remainingMs() >= settings.reserveMs) await retryTransient(transient, progress, exportGroup);
  } finally {
    addPaceStats(progress.totals, paceBefore, deps.client.stats);
  }
  return { stopped };
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
    name: error.name,
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
  transient: Failure[],
  progress: Progress,
  exportGroup: (group: number, numbers: string[]) => Promise<Pulled[]>,
): Promise<void> {
  for (const [group, numbers] of byGroup(transient.map((f) => f.phoneNumber))) {
    const pulled = await exportGroup(group, numbers);
    const settled = new Set(pulled.map((p) => p.phoneNumber));
    progress.totals.failures = progress.totals.failures.filter((f) => !settled.has(f.phoneNumber));
    account(progress, pulled);
  }
}

/** The error a run or shard ends with when numbers still fail after every retry, so the platform retries it. */
export function transientError(failures: Failure[]): SmsStatusError | undefined {
  const failing = failures.filter((f) => f.kind === 'transient');
  const first = failing[0];
  if (!first) return undefined;
  const detail = `${failing.length} numbers still failing after retries (first: ${first.message})`;
  const details = { code: first.code, requestId: first.requestId };
  return first.name === 'RateLimited' ? new RateLimited(detail, details) : new UpstreamUnavailable(detail, details);
}

