import { byReceiveTime, type StatusRecord } from '#lib/receipt.ts';
import { toLine, type ExportRecord } from './line.ts';

/**
 * The merge rule (shared/PRODUCT.md): of two versions of one receipt (same serialNo), the lake keeps the
 * one with the later receive time, and for equal times the one whose line sorts last. The content
 * decides, never the order versions arrive in, so merges commute: drains, exports and redeliveries may
 * run in any order and leave the same lake.
 */
export function laterOf<T extends StatusRecord & { sdkAppId?: string }>(a: T, b: T): T {
  if (a.userReceiveTime !== b.userReceiveTime) return a.userReceiveTime > b.userReceiveTime ? a : b;
  return toLine(a as ExportRecord) >= toLine(b as ExportRecord) ? a : b;
}

/** One record per serialNo (laterOf), sorted by receive time then serialNo: the canonical form of a set of receipts. */
export function uniqueBySerial(records: Iterable<ExportRecord>): ExportRecord[] {
  const bySerial = new Map<string, ExportRecord>();
  for (const record of records) {
    const other = bySerial.get(record.serialNo);
    bySerial.set(record.serialNo, other ? laterOf(other, record) : record);
  }
  return [...bySerial.values()].sort(byReceiveTime);
}

/** What a receipt's consumers see change: its status or the carrier's code (not a later time alone). */
export interface Previous {
  reportStatus: string;
  description: string;
}

export function previousIfChanged(
  stored: Pick<ExportRecord, 'reportStatus' | 'description'>,
  next: ExportRecord,
): Previous | undefined {
  if (stored.reportStatus === next.reportStatus && stored.description === next.description) return undefined;
  return { reportStatus: stored.reportStatus, description: stored.description };
}
