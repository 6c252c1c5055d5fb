import { loadLakeReadConfig, loadLookupMaxRecords, loadTencentConfig } from '#lib/config.ts';
import { lakeDays } from '#lib/lake/day-reader.ts';
import { LOOKUP_RETRY } from '#lib/pace/retry.ts';
import { connect } from '#lib/connect.ts';
import { logger } from '#lib/observability/logger.ts';
import { metrics } from '#lib/observability/metrics.ts';
import { upstreamObserver } from '#lib/observability/upstream.ts';
import { s3Reads } from '#lib/lake/s3/s3-reads.ts';
import { pageTokenKey } from '#lib/status/page-token.ts';
import { lookupHandlers } from './lookup-handlers.ts';

// Read once per container: a wrong variable fails the cold start, naming the variable.
const config = loadTencentConfig(process.env);
const lake = loadLakeReadConfig(process.env);
const maxRecords = loadLookupMaxRecords(process.env);

const MAX_QUEUE_MS = 2000;

const client = connect(config, {
  retry: LOOKUP_RETRY,
  maxQueueMs: MAX_QUEUE_MS,
  observe: upstreamObserver(logger, metrics),
});

// Past Tencent's 7 days, lookups read the lake the export writes (none without EXPORT_BUCKET).
const history = lake && {
  days: lakeDays(s3Reads({ local: lake.localS3 }), lake.bucket, lake.prefix),
  retentionDays: lake.retentionDays,
  sdkAppId: config.sdkAppId,
};

// nextTokens are signed for this deployment: its app and its lake.
const tokenKey = pageTokenKey(config.sdkAppId, lake?.bucket ?? '', lake?.prefix ?? '');

export const { handler } = lookupHandlers(client, config.rpsBudget, MAX_QUEUE_MS + config.timeoutMs, {
  lake: history,
  maxRecords,
  tokenKey,
});
