import type { ExportedObject } from '../../local/read-export.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { fromTencent } from '#lib/status/from-tencent.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import type { MemoryStore } from './memory-store.ts';

/** Every exported object under `prefix/statuses/` of a memory store, as `readExport` reads them from S3. */
export function lakeObjects(store: MemoryStore, bucket: string, prefix: string): ExportedObject[] {
  return store.keys(bucket, `${prefix}/statuses/`).map((key) => ({
    key,
    records: store.lines<ExportRecord>(bucket, key),
    body: store.get(bucket, key) as Buffer,
  }));
}

/** Tencent's receipts as the export writes them: the truth `toHoldExactly` compares a lake with. */
export function asExported(statuses: PullSmsSendStatus[], sdkAppId: string): ExportRecord[] {
  return statuses.map((s) => ({ ...fromTencent(s), sdkAppId }));
}
