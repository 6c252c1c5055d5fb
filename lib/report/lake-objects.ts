import pLimit from 'p-limit';
import { dayPrefix } from '#lib/lake/layout.ts';
import { readBytes, type ListingStore } from '#lib/lake/store.ts';
import type { LakeObjects } from './engine.ts';
import { windowDays, type ReportWindow } from './window.ts';

/** Days listed at once: a 400-day window is 400 LIST requests. */
const LIST_CONCURRENCY = 8;
/** A day object is one group's receipts of one day: far below this, even for a busy deployment. */
const MAX_OBJECT_BYTES = 256 * 1024 * 1024;

/** The lake as the report reads it: listed by day, each object read whole. */
export type LakeStore = Pick<ListingStore, 'list' | 'read'>;

/**
 * The day objects a window's receipts can be in: one listing per UTC day of the window (the `dt`
 * partitions Athena would read), never the whole lake.
 */
export async function windowObjects(
  store: LakeStore,
  bucket: string,
  prefix: string,
  window: ReportWindow,
): Promise<LakeObjects> {
  const limit = pLimit(LIST_CONCURRENCY);
  const days = windowDays(window);
  const listed = await Promise.all(days.map((day) => limit(() => store.list(bucket, dayPrefix(prefix, day)))));
  return {
    bucket,
    keys: listed.flat().filter((key) => key.endsWith('.jsonl.gz')),
    read: async (key) => {
      const object = await store.read(bucket, key);
      return object && readBytes(object.body, MAX_OBJECT_BYTES, `s3://${bucket}/${key}`);
    },
  };
}
