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
