import { toLine, type ExportRecord } from '#lib/export/writer.ts';
import { byReceiveTime } from '#lib/status/record.ts';

/**
 * Of two receipts with the same serialNo, the one that is kept: the later one, and for equal times the
 * one whose line sorts last. The content decides, never the order they came in, so a batch and its
 * redelivery in another order give the same bytes (and the same inbox key).
 */
export function laterOf(a: ExportRecord, b: ExportRecord): ExportRecord {
  if (a.userReceiveTime !== b.userReceiveTime) return a.userReceiveTime > b.userReceiveTime ? a : b;
  return toLine(a) >= toLine(b) ? a : b;
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
