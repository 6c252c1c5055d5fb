import { afterEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '#lib/observability/metrics.ts';
import { emitNewReceipts } from '#lib/observability/receipt-metrics.ts';

/** Each single metric emitted while `act` runs, as `dimension=value,…: name count` (EMF is off in tests). */
function emitted(act: () => void): string[] {
  const out: string[] = [];
  vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dimensions: Record<string, string> = {};
    const single = {
      addDimension: (name: string, value: string) => ((dimensions[name] = value), single),
      addDimensions: (more: Record<string, string>) => (Object.assign(dimensions, more), single),
      addMetric: (name: string, unit: string, value: number) => {
        const named = Object.entries(dimensions).map(([k, v]) => `${k}=${v}`);
        out.push(`${named.join(',')}: ${name} ${unit} ${value}`);
      },
    };
    return single as unknown as ReturnType<typeof metrics.singleMetric>;
  });
  act();
  return out.sort();
}

afterEach(() => vi.restoreAllMocks());

describe('emitNewReceipts', () => {
  it('counts by ReportStatus and by ReportStatus + CountryCode, one metric each; a country outside the list is other', () => {
    const tally = { 'FAIL 86': 2, 'SUCCESS 44': 3, 'SUCCESS 999': 1, 'SUCCESS 7': 4 };
    expect(emitted(() => emitNewReceipts(tally, new Set(['86', '44'])))).toEqual([
      'ReportStatus=FAIL,CountryCode=86: Receipts Count 2',
      'ReportStatus=FAIL: Receipts Count 2',
      'ReportStatus=SUCCESS,CountryCode=44: Receipts Count 3',
      'ReportStatus=SUCCESS,CountryCode=other: Receipts Count 5',
      'ReportStatus=SUCCESS: Receipts Count 8',
    ]);
  });

  it('nothing new, nothing emitted', () => {
    expect(emitted(() => emitNewReceipts({}, new Set(['86'])))).toEqual([]);
  });
});
