/** The day chart's bars: a day with nothing delivered is seen, a day with no outcome has none. */
import { describe, expect, it } from 'vitest';
import type { DayCounts } from '#lib/report/report.ts';
import { rateByDayChart } from '../../../cli/report/charts.ts';

const day = (d: string, delivered: number, failed: number): DayCounts => ({
  day: d,
  receipts: delivered + failed,
  delivered,
  failed,
  deliveryRate: delivered + failed === 0 ? null : delivered / (delivered + failed),
});

const bars = (svg: string) => [...svg.matchAll(/<rect [^>]*height="([\d.]+)" fill="([^"]+)"/g)].map((m) => m.slice(1));

describe('rateByDayChart', () => {
  it('keeps a red sliver for a day where nothing was delivered, and draws no bar for a day without outcomes', () => {
    const svg = rateByDayChart([day('2026-12-04', 9, 1), day('2026-12-05', 0, 1), day('2026-12-06', 0, 0)]);
    const [ninety, zero, ...rest] = bars(svg);
    expect(Number(ninety?.[0])).toBeGreaterThan(100);
    expect(ninety?.[1]).toBe('#1565c0');
    expect(zero).toEqual(['3', '#c62828']);
    expect(rest).toEqual([]);
  });
});
