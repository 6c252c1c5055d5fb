import { metrics, MetricUnit } from './metrics.ts';

/**
 * `Receipts` (Count) for receipts new to the lake (tallied `STATUS CODE`, lib/receipt.ts), by
 * `ReportStatus` and by `ReportStatus` + `CountryCode`; a country outside `countries` counts as `other`,
 * which bounds the metric's dimension values (docs/cost.md).
 */
export function emitNewReceipts(tally: Record<string, number>, countries: ReadonlySet<string>): void {
  const byStatus = new Map<string, number>();
  const byCountry = new Map<string, number>();
  for (const [key, count] of Object.entries(tally)) {
    const [status = '', code = ''] = key.split(' ');
    const country = countries.has(code) ? code : 'other';
    byStatus.set(status, (byStatus.get(status) ?? 0) + count);
    byCountry.set(`${status} ${country}`, (byCountry.get(`${status} ${country}`) ?? 0) + count);
  }
  for (const [status, count] of byStatus)
    metrics.singleMetric().addDimension('ReportStatus', status).addMetric('Receipts', MetricUnit.Count, count);
  for (const [key, count] of byCountry) {
    const [status = '', country = ''] = key.split(' ');
    metrics
      .singleMetric()
      .addDimensions({ ReportStatus: status, CountryCode: country })
      .addMetric('Receipts', MetricUnit.Count, count);
  }
}
