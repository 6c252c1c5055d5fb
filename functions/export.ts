import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { loadEventsConfig, loadExportConfig, loadMetricCountryCodes, loadTencentConfig } from '#lib/config.ts';
import { eventsOut } from '#lib/events/deliver.ts';
import { connect } from '#lib/connect.ts';
import { exportSettings } from '#lib/export/from-config.ts';
import { handleExportEvent, type ExportEventResult } from '#lib/export/handle-event.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { logger } from '#lib/observability/logger.ts';
import { metrics } from '#lib/observability/metrics.ts';
import { emitNewReceipts } from '#lib/observability/receipt-metrics.ts';
import { emitRunReport } from '#lib/observability/run-report.ts';
import { upstreamObserver } from '#lib/observability/upstream.ts';
import { EXPORT_RETRY } from '#lib/pace/retry.ts';
import { paceMetrics } from './middleware/pace-metrics.ts';

// Read once per container: a wrong variable fails the cold start, naming the variable.
const tencent = loadTencentConfig(process.env);
const config = loadExportConfig(process.env);
const client = connect(tencent, {
  retry: EXPORT_RETRY,
  clampToRetention: true,
  observe: upstreamObserver(logger, metrics),
});
const store = s3Store({ local: config.localS3 });
const settings = exportSettings(config, tencent);
const events = eventsOut(
  loadEventsConfig(process.env)?.busName,
  { store, bucket: config.bucket, prefix: config.prefix },
  'pull',
);
const countries = loadMetricCountryCodes(process.env);
const onNewReceipts = (tally: Record<string, number>): void => emitNewReceipts(tally, countries);
const deps = { client, store, events, onNewReceipts, now: Date.now, reportRun: emitRunReport };

/** Plain runs (schedule, `aws lambda invoke`) and Step Functions steps (plan, shard, commit): handleExportEvent. */
export const handler = middy<unknown, ExportEventResult>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(paceMetrics(client))
  .use({ onError: ({ error }) => void logger.error('export failed', { error }) })
  .handler((event, context) =>
    handleExportEvent({ ...deps, remainingMs: () => context.getRemainingTimeInMillis() }, settings, event),
  );
