import { isSmsStatusError, UpstreamRejected, type SmsStatusError } from '#lib/errors.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { countedIn, type PaceStats } from '#lib/pace/paced.ts';
import { collect } from '#lib/status/collect.ts';
import { MAX_LIMIT } from '#lib/tencent/types.ts';
import type { GroupRun } from './group-run.ts';
import { coalesce, OWED } from './owed.ts';
import type { GroupWork } from './run-store.ts';
import type { Failure, OwedWindow, Window } from './types.ts';

/** One number's work in a run: the run's window if it is on the list, and whatever it still owed. */
export interface NumberWork {
  phoneNumber: string;
  windows: Window[];
  /** Runs that already failed some of these windows. */
  runs: number;
  listed: boolean;
}

/** What pulling one number's windows gave: its records, what it still owes, and what to report of it. */
export interface PullOutcome {
  work: NumberWork;
  records: ExportRecord[];
  owed: OwedWindow[];
  failure?: Failure;
  incomplete: boolean;
  gapSeconds: number;
}

/** A group's work, number by number: the list's numbers with the run's window, merged with owed windows. */
export function numberWork(work: GroupWork, window: Window): NumberWork[] {
  const byNumber = new Map<string, NumberWork>();
  const of = (phoneNumber: string): NumberWork => {
    let found = byNumber.get(phoneNumber);
    if (!found) byNumber.set(phoneNumber, (found = { phoneNumber, windows: [], runs: 0, listed: false }));
    return found;
  };
  for (const number of work.numbers) Object.assign(of(number), { listed: true }).windows.push(window);
  for (const owed of work.owed) {
    const it = of(owed.phoneNumber);
    it.windows.push({ beginTime: owed.beginTime, endTime: owed.endTime });
    it.runs = Math.max(it.runs, owed.runs);
  }
  for (const it of byNumber.values()) it.windows = coalesce(it.windows);
  return [...byNumber.values()].sort((a, b) => (a.phoneNumber < b.phoneNumber ? -1 : 1));
}

/**
 * Pulls numbers side by side; their requests, retries and throttles count in `stats`. Credentials or app refused abort.
 */
export async function pullNumbers(run: GroupRun, numbers: NumberWork[], stats: PaceStats): Promise<PullOutcome[]> {
  const outcomes = await countedIn(stats, () =>
    Promise.all(numbers.map((work) => run.limitPulls(() => pullNumber(run, work)))),
  );
  const fatal = outcomes.find((o) => o instanceof UpstreamRejected);
  if (fatal) throw fatal;
  return outcomes as PullOutcome[];
}

/** A number that fails is owed, not fatal: its window is kept owed and the rest go on. */
async function pullNumber(
  { deps, settings, plan }: GroupRun,
  work: NumberWork,
): Promise<PullOutcome | UpstreamRejected> {
  const outcome: PullOutcome = { work, records: [], owed: [], incomplete: false, gapSeconds: 0 };
  const owe = (window: Window, reason: string): void => {
    outcome.owed.push({ phoneNumber: work.phoneNumber, ...window, runs: work.runs + 1, reason, runId: plan.runId });
  };
  for (const window of work.windows) {
    try {
      const query = { phoneNumber: work.phoneNumber, ...window, limit: MAX_LIMIT, all: true };
      const result = await collect(deps.client, query, { maxRequests: 10_000, concurrency: 2 });
      for (const record of result.records) outcome.records.push(Object.assign(record, { sdkAppId: settings.sdkAppId }));
      if (result.agedUntil !== undefined)
        outcome.gapSeconds += Math.min(result.agedUntil, window.endTime + 1) - window.beginTime;
      for (const part of result.incompleteWindows) owe(part, OWED.incomplete);
      if (result.incompleteWindows.length > 0) outcome.incomplete = true;
    } catch (error) {
      if (!isSmsStatusError(error)) throw error;
      if (error instanceof UpstreamRejected) return error;
      if (error.retryable) owe(window, error.code);
      else outcome.failure = failureOf(work.phoneNumber, error);
    }
  }
  return outcome;
}

function failureOf(phoneNumber: string, error: SmsStatusError): Failure {
  return {
    phoneNumber,
    kind: 'rejected',
    name: error.name,
    code: error.code,
    message: error.detail,
    requestId: error.requestId,
  };
}
