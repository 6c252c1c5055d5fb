import type { PendingWindow, Window } from './types.ts';

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

export function isStuck(pending: PendingWindow, stuckAfterRuns: number): boolean {
  return pending.reason !== 'CorruptObject' && pending.runs >= stuckAfterRuns;
}

/**
 * Owed windows with each number's overlapping or touching ones as one: the union of their seconds, the
 * most runs any of them took, the reason and run of the one that ends last. Sorted by number, then time.
 */
export function coalescePending(entries: PendingWindow[]): PendingWindow[] {
  const sorted = [...entries].sort((a, b) => (a.phoneNumber < b.phoneNumber ? -1 : a.phoneNumber > b.phoneNumber ? 1 : a.beginTime - b.beginTime));
  const out: PendingWindow[] = [];
  for (const p of sorted) {
    const last = out.at(-1);
    if (!last || last.phoneNumber !== p.phoneNumber || p.beginTime > last.endTime + 1) {
      out.push({ ...p });
      continue;
    }
    const later = p.endTime >= last.endTime ? p : last;
    Object.assign(last, { endTime: later.endTime, runs: Math.max(last.runs, p.runs), reason: later.reason, runId: later.runId });
  }
  return out;
}
