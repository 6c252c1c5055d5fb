import type { PullSmsSendStatus } from '#lib/tencent/types.ts';

export interface Window {
  beginTime: number;
  endTime: number;
}

/** A window still to pull, with what is known of it from the page that cut it. */
export interface Part extends Window {
  /** A first random sample of this very window: it is being asked twice to estimate its count. */
  sample?: Sample[];
  /** How many records the window was expected to hold when it was cut out of a larger one. */
  expected?: number;
  /** Pages come sorted (1: oldest first, −1: newest first): the part is walked window by window. */
  direction?: 1 | -1;
  /** Records per second seen next to this part, to size the next window of the walk. */
  density?: number;
}

interface Sample {
  time: number;
  serialNo: string;
}

export interface Cut {
  next: Part[];
  /** One second with more records than a page holds: it cannot be cut, so it cannot be proven complete. */
  saturated?: Window;
}

/** How to go on from a full page of `part` (whose BeginTime is where the page was served from). */
export type Splitter = (part: Part, statuses: PullSmsSendStatus[]) => Cut;

/** Records a part cut from a sample is aimed at: well under a page, so nearly every part is proven at once. */
const TARGET_PER_PART = 75;
/** Records a walked window is aimed at: close to a page, since sorted pages make the density plain. */
const FILL = 80;
const MAX_PARTS = 64;

/**
 * Uses what a full page tells, whatever the order Tencent answers in (undocumented):
 * - pages sorted by time are the window's oldest (or newest) records: page on from the last time
 *   seen, and prove the part before it with one page that cannot be full;
 * - any other page is a sample: two samples of the same window estimate its count (capture and
 *   recapture), and the window is cut at the sample's quantiles into parts of ~60 records each, so
 *   dense stretches get many parts and empty flanks none of their own.
 * Correctness never rests on the order: a part is complete only when its own page is not full.
 */
export const adaptiveSplit: Splitter = (part, statuses) => {
  const times = statuses.map((s) => s.UserReceiveTime as number);
  // A full page from one second: that second holds a page or more, whatever the order.
  if (times.every((t) => t === times[0])) return saturatedAround(part, times[0] as number);
  if (isSorted(times, 1)) return pageForward(part, times);
  if (isSorted(times, -1)) return pageBackward(part, times);
  const sample = statuses.map((s) => ({ time: s.UserReceiveTime as number, serialNo: s.SerialNo as string }));
  if (!part.sample?.length && part.expected === undefined) return { next: [{ beginTime: part.beginTime, endTime: part.endTime, sample }] };
  return cutBySample(part, sample);
};

function isSorted(times: number[], direction: 1 | -1): boolean {
  for (let i = 1; i < times.length; i++) if (((times[i] as number) - (times[i - 1] as number)) * direction < 0) return false;
  return true;
}

/**
 * An ascending page holds the window's oldest records: every record before its last second came back.
 * One part runs through that known stretch, and on into the unknown as far as the density seen says
 * ~FILL records reach; one page that is not full proves it. The rest is walked at that density.
 */
function pageForward(part: Part, times: number[]): Cut {
  const last = times.at(-1) as number;
  if (last <= part.beginTime) return saturatedAt(part.beginTime, part.beginTime < part.endTime ? [{ beginTime: part.beginTime + 1, endTime: part.endTime }] : []);
  const known = times.filter((t) => t < last).length;
  // The density of the records themselves, not of the empty stretch before them.
  const density = known / (last - (times[0] as number));
  const end = Math.min(part.endTime, last - 1 + reach(density, FILL - known));
  const proven: Part = { beginTime: part.beginTime, endTime: end, direction: 1 };
  return { next: end >= part.endTime ? [proven] : [proven, { beginTime: end + 1, endTime: part.endTime, direction: 1, density }] };
}

/** A descending page holds the newest records: the mirror image of `pageForward`. */
function pageBackward(part: Part, times: number[]): Cut {
  const first = times.at(-1) as number;
  if (first >= part.endTime) return saturatedAt(part.endTime, part.beginTime < part.endTime ? [{ beginTime: part.beginTime, endTime: part.endTime - 1 }] : []);
  const known = times.filter((t) => t > first).length;
  const density = known / ((times[0] as number) - first);
  const begin = Math.max(part.beginTime, first + 1 - reach(density, FILL - known));
  const proven: Part = { beginTime: begin, endTime: part.endTime, direction: -1 };
  return { next: begin <= part.beginTime ? [proven] : [proven, { beginTime: part.beginTime, endTime: begin - 1, direction: -1, density }] };
}

/** Seconds that hold `wanted` records at `density` (records per second). */
function reach(density: number, wanted: number): number {
  if (wanted <= 0) return 0;
  return density <= 0 ? Number.MAX_SAFE_INTEGER : Math.floor(wanted / density);
}

/**
 * The window to ask for next: a walked part is asked one window of ~FILL records at a time (from its
 * oldest end going forward, its newest going backward); any other part whole.
 */
export function carve(part: Part): { ask: Part; rest?: Part } {
  if (part.density === undefined || part.direction === undefined) return { ask: part };
  const width = reach(part.density, FILL);
  if (part.endTime - part.beginTime < width) return { ask: { beginTime: part.beginTime, endTime: part.endTime, direction: part.direction } };
  if (part.direction === 1) {
    const end = part.beginTime + Math.max(0, width - 1);
    return { ask: { beginTime: part.beginTime, endTime: end, direction: 1 }, rest: { ...part, beginTime: end + 1 } };
  }
  const begin = part.endTime - Math.max(0, width - 1);
  return { ask: { beginTime: begin, endTime: part.endTime, direction: -1 }, rest: { ...part, endTime: begin - 1 } };
}

/**
 * The rest of a walk after a window that was not full, at the density that window showed; asked whole
 * if the records thinned out (a burst ended), since its page then shows where they resume.
 */
export function walkOn(rest: Part, asked: Window, count: number): Part {
  if (count < FILL / 2) return { beginTime: rest.beginTime, endTime: rest.endTime };
  return { ...rest, density: count / (asked.endTime - asked.beginTime + 1) };
}

function saturatedAround(part: Part, second: number): Cut {
  const next: Part[] = [];
  if (part.beginTime < second) next.push({ beginTime: part.beginTime, endTime: second - 1 });
  if (second < part.endTime) next.push({ beginTime: second + 1, endTime: part.endTime });
  return saturatedAt(second, next);
}

function saturatedAt(second: number, next: Part[]): Cut {
  return { next, saturated: { beginTime: second, endTime: second } };
}

/** Chapman's estimator of a population from two samples and their overlap. */
function estimateCount(first: Sample[], second: Sample[]): number {
  const seen = new Set(first.map((s) => s.serialNo));
  const overlap = second.filter((s) => seen.has(s.serialNo)).length;
  return ((first.length + 1) * (second.length + 1)) / (overlap + 1) - 1;
}

/**
 * Cuts at the quantiles of everything sampled from the part. Each piece keeps the samples that fall in
 * it: should it come back full after all, its own page and those samples estimate its count anew.
 */
function cutBySample(part: Part, sample: Sample[]): Cut {
  const estimate = part.sample?.length ? estimateCount(part.sample, sample) : Math.max(part.expected ?? 0, sample.length) * 1.5;
  const union = [...new Map([...(part.sample ?? []), ...sample].map((s) => [s.serialNo, s])).values()].sort((a, b) => a.time - b.time);
  const parts = Math.min(MAX_PARTS, Math.max(2, Math.ceil(estimate / TARGET_PER_PART)));
  const bounds = [part.beginTime - 1, ...quantileCuts(union.map((s) => s.time), parts, part), part.endTime];
  const next: Part[] = [];
  for (let i = 1; i < bounds.length; i++) {
    const window = { beginTime: (bounds[i - 1] as number) + 1, endTime: bounds[i] as number };
    const inside = union.filter((s) => s.time >= window.beginTime && s.time <= window.endTime);
    next.push({ ...window, sample: inside, expected: (estimate * inside.length) / union.length });
  }
  return { next };
}

/** Cut seconds between the sample's quantiles, strictly increasing and inside the window. */
function quantileCuts(sorted: number[], parts: number, window: Window): number[] {
  const cuts: number[] = [];
  for (let j = 1; j < parts; j++) {
    const index = Math.floor((j * sorted.length) / parts);
    const below = sorted[index - 1] as number;
    const above = sorted[index] as number;
    const cut = Math.min(window.endTime - 1, below + Math.floor((above - below) / 2));
    if (cut >= window.beginTime && cut > (cuts.at(-1) ?? window.beginTime - 1)) cuts.push(cut);
  }
  if (cuts.length === 0 && window.beginTime < window.endTime) cuts.push(window.beginTime + Math.floor((window.endTime - window.beginTime) / 2));
  return cuts;
}
