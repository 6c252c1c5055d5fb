import { logger } from './logger.ts';
import { metrics, MetricUnit } from './metrics.ts';

/**
 * What the run report reads of an export run's summary (RunSummary, lib/export/types.ts); observability
 * knows nothing of the export, so the shape is spelled out here and every other field is logged as it is.
 */
export interface RunFigures {
  records: number;
  pendingWindows: number;
  stuckCount: number;
  retentionGapSeconds: number;
  checkpointAgeSeconds: number;
  corruptObjects: unknown[];
  failures: unknown[];
  incompleteNumbers: unknown[];
  manifestProblems: unknown[];
  stuckNumbers: unknown[];
  gapNumbers: unknown[];
}

/**
 * Reports an export run: emits its metrics (receipts written, windows owed, numbers stuck, seconds lost
 * past Tencent's 7 days, corrupt objects, how far the job's checkpoint lags behind now) and logs the
 * summary as one line, its sampled lists as counts (the stuck and gap numbers not at all).
 */
export function emitRunReport<Summary extends RunFigures>(summary: Summary): void {
  metrics.addMetric('RecordsExported', MetricUnit.Count, summary.records);
  metrics.addMetric('PendingWindows', MetricUnit.Count, summary.pendingWindows);
  metrics.addMetric('StuckNumbers', MetricUnit.Count, summary.stuckCount);
  metrics.addMetric('RetentionGap', MetricUnit.Seconds, summary.retentionGapSeconds);
  metrics.addMetric('CorruptObjects', MetricUnit.Count, summary.corruptObjects.length);
  metrics.addMetric('CheckpointAgeSeconds', MetricUnit.Seconds, summary.checkpointAgeSeconds);
  const {
    failures,
    incompleteNumbers,
    manifestProblems,
    stuckNumbers: _stuck,
    gapNumbers: _gaps,
    ...figures
  } = summary;
  logger.info('export run', {
    ...figures,
    failures: failures.length,
    incompleteNumbers: incompleteNumbers.length,
    manifestProblems: manifestProblems.length,
  });
}
