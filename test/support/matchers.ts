/**
 * Custom matchers, registered for every test file by vitest.config.ts (`setupFiles`).
 *
 *   expect(objects).toHoldExactly(truth, options?)
 *
 * `objects` are the lake's objects ({ key, records }: `readExport` from S3, `lakeObjects` from the
 * memory store); `truth` the records they must hold (`asExported` turns Tencent's receipts into them).
 * It passes when no serialNo appears twice, each record lies in the object of its own UTC day and its
 * number's group, each object is non-empty and in receive-time order, and the records are exactly the
 * truth: none missing, none extra, none changed. A failure lists what is missing, extra, duplicated,
 * changed or misplaced, by serialNo.
 */
import { expect } from 'vitest';
import type { ExportedObject } from '../../local/read-export.ts';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { byReceiveTime } from '#lib/receipt.ts';
import { utcDay } from '#lib/utc-day.ts';

export interface HoldExactlyOptions {
  /**
   * Records left out of the comparison with the truth (other tests' numbers under a shared prefix, a
   * saturated second's partial pages); they are still checked for duplicates and placement.
   */
  ignore?: (record: ExportRecord) => boolean;
  /** The export prefix every key must start with (unchecked when unset). */
  prefix?: string;
  /** Each object non-empty and in receive-time order, as the writer leaves it (default true). */
  ordered?: boolean;
}

type LakeObject = Pick<ExportedObject, 'key' | 'records'>;

interface MatcherContext {
  isNot: boolean;
  equals(a: unknown, b: unknown): boolean;
  utils: { diff(a: unknown, b: unknown): string | null | undefined };
}

const SHOWN = 10;

function listed(label: string, items: string[]): string {
  if (items.length === 0) return '';
  const more = items.length > SHOWN ? `, … and ${items.length - SHOWN} more` : '';
  return `\n  ${label} (${items.length}): ${items.slice(0, SHOWN).join(', ')}${more}`;
}

function toHoldExactly(
  this: MatcherContext,
  received: LakeObject[],
  truth: ExportRecord[],
  options: HoldExactlyOptions = {},
) {
  const { ignore = () => false, prefix, ordered = true } = options;
  const misplaced: string[] = [];
  const unordered: string[] = [];
  const seen = new Map<string, string[]>();
  const got = new Map<string, ExportRecord>();
  for (const { key, records } of received) {
    if (ordered && (records.length === 0 || !this.equals(records, [...records].sort(byReceiveTime)))) {
      unordered.push(records.length === 0 ? `${key} (empty)` : key);
    }
    for (const record of records) {
      const home = objectKey(prefix ?? '', utcDay(record.userReceiveTime), groupOf(record.phoneNumber));
      if (prefix === undefined ? !key.endsWith(home) : key !== home)
        misplaced.push(`${record.serialNo} in ${key}, not ${prefix === undefined ? `…${home}` : home}`);
      seen.set(record.serialNo, [...(seen.get(record.serialNo) ?? []), key]);
      if (!ignore(record) && !got.has(record.serialNo)) got.set(record.serialNo, record);
    }
  }
  const duplicated = [...seen]
    .filter(([, keys]) => keys.length > 1)
    .map(([serialNo, keys]) => `${serialNo} (${keys.join(', ')})`);
  const want = new Map<string, ExportRecord>();
  const twiceInTruth: string[] = [];
  for (const record of truth) {
    if (want.has(record.serialNo)) twiceInTruth.push(record.serialNo);
    want.set(record.serialNo, record);
  }
  const missing = [...want.keys()].filter((serialNo) => !got.has(serialNo));
  const extra = [...got.keys()].filter((serialNo) => !want.has(serialNo));
  const changed = [...want].filter(
    ([serialNo, record]) => got.has(serialNo) && !this.equals(got.get(serialNo), record),
  );

  const pass = [misplaced, unordered, duplicated, twiceInTruth, missing, extra, changed].every(
    (list) => list.length === 0,
  );
  const message = (): string => {
    if (this.isNot) return `expected the lake not to hold exactly the truth (${want.size} records), but it does`;
    const diffs = changed
      .slice(0, 3)
      .map(([serialNo, record]) => `\n  ${serialNo}:\n${this.utils.diff(record, got.get(serialNo)) ?? ''}`);
    return (
      `expected the lake (${[...seen.values()].reduce((n, keys) => n + keys.length, 0)} records, ${got.size} serialNos compared) to hold exactly the truth (${want.size} records), but:` +
      listed('missing', missing) +
      listed('extra', extra) +
      listed('duplicated', duplicated) +
      listed(
        'changed',
        changed.map(([serialNo]) => serialNo),
      ) +
      diffs.join('') +
      listed('misplaced', misplaced) +
      listed('objects empty or out of receive-time order', unordered) +
      listed('twice in the truth itself', twiceInTruth)
    );
  };
  return { pass, message };
}

expect.extend({ toHoldExactly });

declare module 'vitest' {
  interface Matchers<T = any> {
    /** The lake's objects hold exactly `truth` (see test/support/matchers.ts). */
    toHoldExactly(truth: ExportRecord[], options?: HoldExactlyOptions): T;
  }
}
