/**
 * The size EventBridge counts for PutEvents entries, as the EventBridge User Guide's "Calculating
 * Amazon EventBridge PutEvents event entry size" gives it: 14 bytes for `Time` if given, plus the UTF-8
 * bytes of `Source`, `DetailType`, `Detail` and each of `Resources`. `EventBusName` and `TraceHeader`
 * do not count, nor do the JSON quotes and keys around the values.
 */

/** What `Time` counts for, whatever the timestamp. */
export const TIME_BYTES = 14;

/** The fields of an entry that count towards its size (Time as the SDK gives it, or as it is sent). */
export interface SizedEntry {
  Time?: unknown;
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: readonly string[];
}

export function entrySize(entry: SizedEntry): number {
  const texts = [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])];
  const time = entry.Time === undefined ? 0 : TIME_BYTES;
  return texts.reduce((size, text) => size + (text === undefined ? 0 : Buffer.byteLength(text, 'utf8')), time);
}

/** The total AWS holds against the per-call limit. */
export function requestSize(entries: readonly SizedEntry[]): number {
  return entries.reduce((size, entry) => size + entrySize(entry), 0);
}
