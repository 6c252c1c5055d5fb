import type { Failure } from './types.ts';

/** Samples kept beside each count: enough to act on, never enough to outgrow a payload. */
export const MAX_SAMPLE = 20;

/**
 * What a run counts, once: every field's starting value. Its kind says how two groups' (or two
 * invocations') totals add up: a number sums, an array is a sample filled up to MAX_SAMPLE, an object
 * tallies by key. Adding a counter is one line here (and the code that counts it); emptyTotals and
 * addTotals follow from this. Lists are capped samples beside exact counts, so no state object and no
 * Step Functions payload grows with the number of numbers or failures.
 */
const TOTALS = {
  numbersDone: 0,
  records: 0,
  recordsByStatus: {} as Record<string, number>,
  /** Numbers refused by Tencent (never retried) and numbers still failing, with a sample of each. */
  failureCount: 0,
  failures: [] as Failure[],
  incompleteCount: 0,
  incompleteNumbers: [] as string[],
  /** Windows still owed when the run ended, and how many of them are stuck. */
  pendingWindows: 0,
  stuckCount: 0,
  stuckNumbers: [] as string[],
  /** Seconds of receipts that aged past Tencent's 7 days before they could be pulled, summed over numbers. */
  retentionGapSeconds: 0,
  gapNumbers: [] as string[],
  gapCount: 0,
  corruptObjects: [] as Array<{ key: string; movedTo: string; error: string }>,
  /** Rebuilt day objects part of which aged past Tencent's 7 days before this job could pull them again. */
  lostObjects: [] as string[],
  requests: 0,
  retries: 0,
  throttles: 0,
  objectsWritten: 0,
  invocations: 0,
  /** Delivery events EventBridge accepted from this run's merges (docs/events.md). */
  eventsPublished: 0,
};

/** What a run did (see TOTALS). */
export type RunTotals = typeof TOTALS;

export function emptyTotals(): RunTotals {
  return structuredClone(TOTALS);
}

/** `list` with `more` added, up to MAX_SAMPLE. */
export function capped<T>(list: T[], more: T[]): T[] {
  return list.length >= MAX_SAMPLE ? list : [...list, ...more].slice(0, MAX_SAMPLE);
}

/** Adds `more` into `into`, field by field as TOTALS's kinds say. */
export function addTotals(into: RunTotals, more: RunTotals): RunTotals {
  const target = into as Record<string, unknown>;
  for (const [name, value] of Object.entries(more) as Array<[keyof RunTotals, unknown]>) {
    const current = target[name];
    if (typeof current === 'number') target[name] = current + (value as number);
    else if (Array.isArray(current)) target[name] = capped(current, value as unknown[]);
    else target[name] = tallied(current as Record<string, number>, value as Record<string, number>);
  }
  return into;
}

function tallied(into: Record<string, number>, more: Record<string, number>): Record<string, number> {
  for (const [key, n] of Object.entries(more)) into[key] = (into[key] ?? 0) + n;
  return into;
}
