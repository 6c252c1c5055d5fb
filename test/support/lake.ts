import { gzipSync } from 'node:zlib';
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

/** A lake record: serial `2433:<serial, 8 digits>`, received at `at`, of +8613711112222 unless `overrides` say so. */
export function lakeRecord(serial: number, at: number, overrides: Partial<ExportRecord> = {}): ExportRecord {
  return {
    serialNo: `2433:${String(serial).padStart(8, '0')}`,
    phoneNumber: '+8613711112222',
    countryCode: '86',
    subscriberNumber: '13711112222',
    reportStatus: 'SUCCESS',
    description: 'DELIVRD',
    userReceiveTime: at,
    sdkAppId: '1400000000',
    ...overrides,
  };
}

/** Lines as a lake object stores them: gzip, one per line, each ending in a newline. */
export function gzipLines(lines: string[]): Buffer {
  return gzipSync(lines.map((line) => `${line}\n`).join(''));
}
