import pLimit from 'p-limit';
import { objectKey } from '#lib/lake/layout.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { mergeInto, type Quarantined } from '#lib/lake/merge.ts';
import { utcDay } from '#lib/utc-day.ts';
import type { GroupRun } from './group-run.ts';

/** Day objects of a group merged side by side: S3 round trips overlap while the pulls go on elsewhere. */
const DAY_MERGES = 2;

/**
 * Merges a chunk's records into the group's day objects (the lake's conditional merge). A corrupt object
 * is copied aside and rebuilt, and the lake's ledger owes its day to every job of its group (lib/lake).
 * Answers how many objects it wrote, and the corrupt ones.
 */
export async function mergeDays(
  { deps, settings }: GroupRun,
  group: number,
  records: ExportRecord[],
): Promise<MergedDays> {
  const byDay = Map.groupBy(records, (record) => utcDay(record.userReceiveTime));
  const limitMerges = pLimit(DAY_MERGES);
  const options = { prefix: settings.prefix, now: deps.now, changeLog: deps.events?.outbox };
  const merged = await Promise.all(
    [...byDay].map(([day, list]) =>
      limitMerges(() => mergeInto(deps.store, settings.bucket, objectKey(settings.prefix, day, group), list, options)),
    ),
  );
  return {
    written: merged.length,
    corrupt: merged.flatMap((m) => (m.quarantined ? [m.quarantined] : [])),
    added: merged.flatMap((m) => m.changes.added),
    staged: merged.flatMap((m) => (m.staged ? [m.staged] : [])),
  };
}

export interface MergedDays {
  written: number;
  corrupt: Quarantined[];
  /** Receipts new to the lake. */
  added: ExportRecord[];
  /** The outbox entries of the merges' delivery events. */
  staged: string[];
}
