import { MAX_LIMIT as MAX_PAGE, type PullSmsSendStatus } from '#lib/tencent/types.ts';

export interface Window {
  beginTime: number;
  endTime: number;
}

/** A window still to pull; a walked one is asked one window at a time (see nextAsk). */
export interface Stretch extends Window {
  walk?: Walk;
}

/**
 * How a stretch is walked: from its oldest second (direction 1) or its newest (−1), one window of about
 * FILL records at a time, sized by the records per second the walk has measured so far and, after a
 * shuffled page, by where that page's sample says the records are.
 */
export interface Walk {
  direction: 1 | -1;
  /** Records and seconds measured so far, the older windows weighing half as much at each step. */
  measured?: Tally;
  /** Receive times a shuffled page sampled from this stretch, ascending: where its records are. */
  guide?: number[];
  /** Records found per guide point in the windows walked so far. */
  perPoint?: { records: number; points: number };
}

interface Tally {
  records: number;
  seconds: number;
}

export interface SplitResult {
  next: Stretch[];
  /** One second with more records than a page holds: it cannot be cut, so it cannot be proven complete. */
  saturated?: Window;
}

/**
 * How to go on from a full page: `stretch` is the whole walked stretch (or the asked window when it is not
 * walked) and `asked` the window the page answered, from where it was served.
 */
export type Splitter = (stretch: Stretch, asked: Window, statuses: PullSmsSendStatus[]) => SplitResult;

/** Records a walked window is aimed at: near a page, yet a full page (one wasted request) stays rare. */
const FILL = 80;
/** Guide points in the first window after a shuffled page, before records per point are known. */
const PROBE_POINTS = 10;
/** A guided window holds at least this share of FILL by the guide (so empty stretches are crossed)… */
const GUIDE_LOW = 0.6;
/** …and at most this share (so a burst the time measure has not seen yet is not asked whole). */
const GUIDE_HIGH = 1.2;
/** A stretch this many average gaps long with no record is where a sorted walk's records ended. */
const THIN_GAPS = 5;

/**
 * Uses what a full page tells, whatever the order Tencent answers in (undocumented):
 * - a page sorted by time holds the window's oldest (or newest) records: the stretch they cover is
 *   proven by one page that cannot be full, and the rest walked at the density they show;
 * - any other page is a sample of the window: the window is walked from its oldest second, the sample
 *   guiding where records are and the windows already counted giving how many per sample point.
 * Correctness never rests on the order: a stretch is complete only when its own page is not full.
 */
export const adaptiveSplit: Splitter = (stretch, asked, statuses) => {
  const times = statuses.map((s) => s.UserReceiveTime as number);
  const direction = stretch.walk?.direction;
  // A full page with nothing inside the window (all Tencent's strays) says nothing of where its records are.
  if (times.length === 0) return withRest({ next: halves(asked, []) }, stretch, asked);
  // A full page from one second: that second holds a page or more, whatever the order.
  if (times.every((t) => t === times[0])) return withRest(saturatedAround(asked, times[0] as number), stretch, asked);
  if (isSorted(times, 1))
    return direction === 1
      ? pageForward(stretch, asked.beginTime, times)
      : withRest(pageForward(asked, asked.beginTime, times), stretch, asked);
  if (isSorted(times, -1))
    return direction === -1
      ? pageBackward(stretch, asked.endTime, times)
      : withRest(pageBackward(asked, asked.endTime, times), stretch, asked);
  const guide = [...times].sort((a, b) => a - b);
  const rest = remainder(stretch, asked);
  if (!stretch.walk) return { next: [{ ...asked, walk: { direction: 1, guide } }] };
  // A walked window meant for ~FILL held a page: its sample halves it, and the rest of the walk learns.
  return { next: [...halves(asked, guide), ...(rest ? [overflowed(rest, asked, stretch.walk)] : [])] };
};

function isSorted(times: number[], direction: 1 | -1): boolean {
  for (let i = 1; i < times.length; i++)
    if (((times[i] as number) - (times[i - 1] as number)) * direction < 0) return false;
  return true;
}

/** What is left of a walked stretch once `asked` is taken from it, with the same walk. */
function remainder(stretch: Stretch, asked: Window): Stretch | undefined {
  if (!stretch.walk) return undefined;
  if (stretch.walk.direction === 1)
    return asked.endTime < stretch.endTime
      ? { beginTime: asked.endTime + 1, endTime: stretch.endTime, walk: stretch.walk }
      : undefined;
  return stretch.beginTime < asked.beginTime
    ? { beginTime: stretch.beginTime, endTime: asked.beginTime - 1, walk: stretch.walk }
    : undefined;
}

function withRest(cut: SplitResult, stretch: Stretch, asked: Window): SplitResult {
  const rest = remainder(stretch, asked);
  return rest ? { ...cut, next: [...cut.next, rest] } : cut;
}

/**
 * Two windows split at the sample's median (a walked window held a page, so it holds about one or two),
 * or at the middle when there is no sample.
 */
function halves(asked: Window, sample: number[]): Stretch[] {
  const below = sample[Math.floor(sample.length / 2) - 1] ?? asked.beginTime;
  const above = sample[Math.floor(sample.length / 2)] ?? asked.endTime;
  const cut = Math.min(asked.endTime - 1, Math.max(asked.beginTime, below + Math.floor((above - below) / 2)));
  return [
    { beginTime: asked.beginTime, endTime: cut },
    { beginTime: cut + 1, endTime: asked.endTime },
  ];
}

/** A walked window came back full: it held at least a page, for its seconds and its guide points. */
function overflowed(rest: Stretch, asked: Window, walk: Walk): Stretch {
  const measured = {
    records: (walk.measured?.records ?? 0) / 2 + MAX_PAGE,
    seconds: (walk.measured?.seconds ?? 0) / 2 + asked.endTime - asked.beginTime + 1,
  };
  if (!walk.guide) return { ...rest, walk: { ...walk, measured } };
  const points = walk.guide.filter((t) => t >= asked.beginTime && t <= asked.endTime).length;
  const perPoint = { records: (walk.perPoint?.records ?? 0) + MAX_PAGE, points: (walk.perPoint?.points ?? 0) + points };
  return { ...rest, walk: { ...walk, measured, perPoint, guide: walk.guide.filter((t) => t > asked.endTime) } };
}

/**
 * An ascending page holds the stretch's oldest records: every record before its last second came back.
 * The stretch up to that second is proven by one page that cannot be full; the rest is walked at the
 * density those records show. The proving stretch stops short of the last second: all of that second's
 * records are in any window that holds it, so with the known ones they fill a page again.
 */
function pageForward(stretch: Stretch, from: number, times: number[]): SplitResult {
  const last = times.at(-1) as number;
  if (last <= from)
    return saturatedAt(
      from,
      from < stretch.endTime ? [{ beginTime: from + 1, endTime: stretch.endTime, walk: stretch.walk }] : [],
    );
  const measured = { records: times.filter((t) => t < last).length, seconds: last - (times[0] as number) };
  return {
    next: [
      { beginTime: from, endTime: last - 1 },
      { beginTime: last, endTime: stretch.endTime, walk: { direction: 1, measured } },
    ],
  };
}

/** A descending page holds the newest records: the mirror image of `pageForward`. */
function pageBackward(stretch: Stretch, to: number, times: number[]): SplitResult {
  const first = times.at(-1) as number;
  if (first >= to)
    return saturatedAt(
      to,
      stretch.beginTime < to ? [{ beginTime: stretch.beginTime, endTime: to - 1, walk: stretch.walk }] : [],
    );
  const measured = { records: times.filter((t) => t > first).length, seconds: (times[0] as number) - first };
  return {
    next: [
      { beginTime: first + 1, endTime: to },
      { beginTime: stretch.beginTime, endTime: first, walk: { direction: -1, measured } },
    ],
  };
}

/**
 * The window to ask for next: a walked stretch from its walking end, sized to hold ~FILL records (the last
 * two windows of a walk evenly, so no sliver is left for a request of its own); any other stretch whole.
 */
export function nextAsk(stretch: Stretch): { ask: Window; rest?: Stretch } {
  const whole = { beginTime: stretch.beginTime, endTime: stretch.endTime };
  if (!stretch.walk) return { ask: whole };
  const width = walkWidth(stretch, stretch.walk);
  if (width > stretch.endTime - stretch.beginTime) return { ask: whole };
  if (stretch.walk.direction === 1) {
    const end = stretch.beginTime + width - 1;
    return { ask: { beginTime: stretch.beginTime, endTime: end }, rest: { ...stretch, beginTime: end + 1 } };
  }
  const begin = stretch.endTime - width + 1;
  return { ask: { beginTime: begin, endTime: stretch.endTime }, rest: { ...stretch, endTime: begin - 1 } };
}

/** Seconds the next window of a walk spans (at least one). */
function walkWidth(stretch: Stretch, walk: Walk): number {
  const length = stretch.endTime - stretch.beginTime + 1;
  const byTime =
    walk.measured && walk.measured.records > 0
      ? timeWidth(length, walk.measured.records / walk.measured.seconds)
      : undefined;
  if (walk.direction === -1 || !walk.guide) return byTime ?? length;
  const points = walk.guide.filter((t) => t >= stretch.beginTime && t <= stretch.endTime);
  const rate = walk.perPoint && walk.perPoint.points > 0 ? walk.perPoint.records / walk.perPoint.points : undefined;
  if (rate === undefined) return guideWidth(stretch, points, PROBE_POINTS);
  const guided = (share: number): number => guideWidth(stretch, points, Math.max(1, Math.floor((share * FILL) / rate)));
  if (byTime === undefined) return guided(1);
  // The guide says the rest fits one window: a density a burst has inflated must not cut it in two.
  if (guided(1) >= length) return length;
  return Math.min(guided(GUIDE_HIGH), Math.max(guided(GUIDE_LOW), byTime));
}

/** Seconds that hold ~FILL records at `density`; half the stretch when it holds under two windows' worth. */
function timeWidth(length: number, density: number): number {
  const expected = density * length;
  if (expected <= FILL) return length;
  if (expected <= 2 * FILL) return Math.ceil(length / 2);
  return Math.max(1, Math.floor(FILL / density));
}

/** Seconds from the stretch's start up to midway between its `count`th and next guide point. */
function guideWidth(stretch: Stretch, points: number[], count: number): number {
  if (count >= points.length) return stretch.endTime - stretch.beginTime + 1;
  const below = points[count - 1] as number;
  const above = points[count] as number;
  return below + Math.floor((above - below) / 2) - stretch.beginTime + 1;
}

/**
 * The rest of a walk after a window that was not full: the window's records measure the density (from
 * its first record on, so an empty flank does not dilute it) and, guided, the records per guide point.
 * A sorted walk whose records thinned out (a burst ended) asks its rest whole: that page shows where
 * the records resume.
 */
export function continueWalk(rest: Stretch, asked: Window, statuses: PullSmsSendStatus[]): Stretch {
  const walk = rest.walk as Walk;
  const times = statuses.map((s) => s.UserReceiveTime as number);
  if (!walk.guide && thinnedOut(walk, asked, times)) return { beginTime: rest.beginTime, endTime: rest.endTime };
  const edge = walk.direction === 1 ? Math.min(asked.endTime, ...times) : Math.max(asked.beginTime, ...times);
  const seconds = walk.direction === 1 ? asked.endTime - edge + 1 : edge - asked.beginTime + 1;
  const measured = {
    records: (walk.measured?.records ?? 0) / 2 + times.length,
    seconds: (walk.measured?.seconds ?? 0) / 2 + seconds,
  };
  if (!walk.guide) return { ...rest, walk: { ...walk, measured } };
  const inside = walk.guide.filter((t) => t >= asked.beginTime && t <= asked.endTime).length;
  const perPoint = {
    records: (walk.perPoint?.records ?? 0) + times.length,
    points: (walk.perPoint?.points ?? 0) + inside,
  };
  return { ...rest, walk: { ...walk, measured, perPoint, guide: walk.guide.filter((t) => t > asked.endTime) } };
}

/**
 * Whether a sorted walk's records ended inside this window: few came back, or the last of them lies
 * further from the window's far edge than THIN_GAPS gaps between records at the walk's density.
 */
function thinnedOut(walk: Walk, asked: Window, times: number[]): boolean {
  if (times.length < FILL / 2) return true;
  const gap = walk.direction === 1 ? asked.endTime - Math.max(...times) : Math.min(...times) - asked.beginTime;
  const density = walk.measured ? walk.measured.records / walk.measured.seconds : 0;
  return gap * density > THIN_GAPS;
}

function saturatedAround(stretch: Window, second: number): SplitResult {
  const next: Stretch[] = [];
  if (stretch.beginTime < second) next.push({ beginTime: stretch.beginTime, endTime: second - 1 });
  if (second < stretch.endTime) next.push({ beginTime: second + 1, endTime: stretch.endTime });
  return saturatedAt(second, next);
}

function saturatedAt(second: number, next: Stretch[]): SplitResult {
  return { next, saturated: { beginTime: second, endTime: second } };
}
