import pLimit from 'p-limit';
import { dayPrefix } from '#lib/export/layout.ts';
import type { ListingStore } from '#lib/export/store.ts';
import type { LakeObjects } from './engine.ts';
import { windowDays, type ReportWindow } from './window.ts';

/** Days listed at once: a 400-day window is 400 LIST requests. */
const LIST_CONCURRENCY = 8;

/** The lake as the report reads it: listed by day, each object read whole. */
export type LakeStore = Pick<ListingStore, 'list' | 'read'>;

/**
 * The day objects a window's receipts can be in: one listing per UTC day of the window (the `dt`
 * partitions Athena would read), never the whole lake.
 */
export async function windowObjects(store: LakeStore, bucket: string, prefix: string, window: ReportWindow): Promise<LakeObjects> {
  const limit = pLimit(LIST_CONCURRENCY);
  const days = windowDays(window);
  const listed = await Promise.all(days.map((day) => limit(() => store.list(bucket, dayPrefix(prefix, day)))));
  return {
    bucket,
    keys: listed.flat().filter((key) => key.endsWith('.jsonl.gz')),
    open: async (key) => (await store.read(bucket, key))?.body,
  };
}
