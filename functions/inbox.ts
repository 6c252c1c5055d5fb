import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { INBOX_DEFAULTS, loadEventsConfig, loadInboxConfig, loadMetricCountryCodes } from '#lib/config.ts';
import { eventsOut } from '#lib/events/deliver.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { logger } from '#lib/observability/logger.ts';
import { metrics } from '#lib/observability/metrics.ts';
import { emitNewReceipts } from '#lib/observability/receipt-metrics.ts';
import { drainInbox, type DrainSummary } from '#lib/push/inbox.ts';
import { reportDrain } from './middleware/drain-report.ts';

// Read once per container: a wrong variable fails the cold start, naming the variable.
const config = loadInboxConfig(process.env);
const store = s3Store({ local: config.localS3 });
const settings = { ...INBOX_DEFAULTS, ...config };
const events = eventsOut(
  loadEventsConfig(process.env)?.busName,
  { store, bucket: config.bucket, prefix: config.prefix },
  'push',
);
const countries = loadMetricCountryCodes(process.env);

/** The inbox drain (every minute, or `aws lambda invoke`): merges the callback's inbox into the lake. */
export const handler = middy<unknown, DrainSummary>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use({ onError: ({ error }) => void logger.error('inbox drain failed', { error }) })
  .handler(async (_event, context) => {
    const summary = await drainInbox(
      { store, events, remainingMs: () => context.getRemainingTimeInMillis() },
      settings,
    );
    reportDrain(summary);
    emitNewReceipts(summary.newReceipts, countries);
    return summary;
  });
