import { classify } from '#lib/tencent/codes.ts';
import type { OwedWindow, Window } from './types.ts';

/**
 * Why a window is owed, besides a Tencent error code (a transient failure still failing after the
 * retries): reasons of our own, each a debt that no retry in this run would pay.
 */
export const OWED = {
  /** A saturated second (more than a page in one second), or the request cap: not provable complete. */
  incomplete: 'Incomplete',
  /** A day object was rebuilt: the lake's ledger owes it (owed-rebuilds.ts). */
  rebuild: 'Rebuild',
  /** Its shard was caught by the workflow: the group's frozen work again. */
  refused: 'Refused',
  /** The ledger's forerunner, in owed windows written before it. */
  corrupt: 'CorruptObject',
} as const;

const OURS: ReadonlySet<string> = new Set(Object.values(OWED));

/** Owed because Tencent kept failing (a Tencent code): another pass in this run may pay it. */
export function isTransient(reason: string): boolean {
  return !OURS.has(reason);
}

/** The taxonomy name of a window still failing, from the Tencent code it failed with. */
export function failingName(reason: string): 'RateLimited' | 'UpstreamUnavailable' {
  return classify(reason) === 'RateLimited' ? 'RateLimited' : 'UpstreamUnavailable';
}

export function isStuck(owed: OwedWindow, stuckAfterRuns: number): boolean {
  return owed.reason !== OWED.corrupt && owed.runs >= stuckAfterRuns;
}

/** Overlapping or touching windows (whole seconds, both ends inclusive) as one: one pull instead of two. */
export function coalesce(windows: Window[]): Window[] {
  const sorted = [...windows].sort((a, b) => a.beginTime - b.beginTime);
  const out: Window[] = [];
  for (const w of sorted) {
    const last = out.at(-1);
    if (last && w.beginTime <= last.endTime + 1) last.endTime = Math.max(last.endTime, w.endTime);
    else out.push({ beginTime: w.beginTime, endTime: w.endTime });
  }
  return out;
}

/** A UTC day as a window, cut at `nowSeconds`. */
export function dayWindow(day: string, nowSeconds: number): Window {
  const beginTime = Date.parse(`${day}T00:00:00Z`) / 1000;
  return { beginTime, endTime: Math.min(beginTime + 86_399, nowSeconds) };
}

/**
 * Owed windows with each number's overlapping or touching ones as one: the union of their seconds, the
 * most runs any of them took, the reason and run of the one that ends last. Sorted by number, then time.
 */
export function coalesceOwed(entries: OwedWindow[]): OwedWindow[] {
  const sorted = [...entries].sort((a, b) =>
    a.phoneNumber < b.phoneNumber ? -1 : a.phoneNumber > b.phoneNumber ? 1 : a.beginTime - b.beginTime,
  );
  const out: OwedWindow[] = [];
  for (const p of sorted) {
    const last = out.at(-1);
    if (!last || last.phoneNumber !== p.phoneNumber || p.beginTime > last.endTime + 1) {
      out.push({ ...p });
      continue;
    }
    const later = p.endTime >= last.endTime ? p : last;
    Object.assign(last, {
      endTime: later.endTime,
      runs: Math.max(last.runs, p.runs),
      reason: later.reason,
      runId: later.runId,
    });
  }
  return out;
}
