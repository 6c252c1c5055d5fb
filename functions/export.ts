import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { logger } from '#lib/observability/logger.ts';
import { metrics, MetricUnit } from '#lib/observability/metrics.ts';
import { paceMetrics } from './middleware/pace-metrics.ts';
import { loadExportConfig, loadTencentConfig } from '#lib/config.ts';
import { exportSettings } from '#lib/export/from-config.ts';
import { requestOf } from '#lib/export/request.ts';
import { runExport } from '#lib/export/run.ts';
import { s3Store } from '#lib/export/s3/s3-store.ts';
import type { ExportDeps, Plan, RunSummary } from '#lib/export/types.ts';
import { commitRun } from '#lib/export/commit.ts';
import { planRun } from '#lib/export/planner.ts';
import { exportShard, workflowEventOf, type ShardResult } from '#lib/export/workflow.ts';
import { EXPORT_RETRY } from '#lib/pace/retry.ts';
import { connect } from '#lib/tencent/connect.ts';

// Read once per container: a wrong variable fails the cold start, naming the variable.
const tencent = loadTencentConfig(process.env);
const config = loadExportConfig(process.env);
const client = connect(tencent, { retry: EXPORT_RETRY, clampToRetention: true });
const store = s3Store({ local: config.localS3 });
const settings = exportSettings(config, tencent);

/**
 * EventBridge Scheduler and `aws lambda invoke`: one export invocation. A run cut short by the time
 * limit returns `complete: false` and the next invocation resumes it; numbers still failing after the
 * in-run retries make it throw UpstreamUnavailable (or RateLimited), so the platform retries after a
 * pause and the resumed run gives just those numbers another chance.
 */
async function run(deps: ExportDeps, event: unknown): Promise<RunSummary> {
  const { summary, retryLater } = await runExport(deps, settings, requestOf(event));
  reported(summary);
  if (retryLater) throw retryLater;
  return summary;
}

/** Logs the run and emits its metrics: receipts written, numbers stuck, seconds lost past Tencent's 7 days. */
function reported(summary: RunSummary): RunSummary {
  metrics.addMetric('RecordsExported', MetricUnit.Count, summary.records);
  metrics.addMetric('PendingWindows', MetricUnit.Count, summary.pendingWindows);
  metrics.addMetric('StuckNumbers', MetricUnit.Count, summary.stuckCount);
  metrics.addMetric('RetentionGap', MetricUnit.Seconds, summary.retentionGapSeconds);
  metrics.addMetric('CorruptObjects', MetricUnit.Count, summary.corruptObjects.length);
  const { failures, incompleteNumbers, manifestProblems, stuckNumbers, gapNumbers, ...figures } = summary;
  logger.info('export run', { ...figures, failures: failures.length, incompleteNumbers: incompleteNumbers.length, manifestProblems: manifestProblems.length });
  return summary;
}

async function route(event: unknown, context: Context): Promise<RunSummary | Plan | ShardResult> {
  const deps: ExportDeps = { client, store, now: Date.now, remainingMs: () => context.getRemainingTimeInMillis() };
  const step = workflowEventOf(event);
  switch (step?.action) {
    case undefined:
      return run(deps, event);
    case 'plan':
      return planRun(deps, settings, requestOf(step.request));
    case 'shard':
      return exportShard(deps, settings, step.plan, step.shard);
    case 'commit':
      return reported(await commitRun(deps, settings, step.plan));
  }
}

/** Step Functions steps (`action`: plan, shard, commit) and plain runs; errors keep their taxonomy names. */
export const handler = middy<unknown, RunSummary | Plan | ShardResult>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(paceMetrics(client))
  .use({ onError: ({ error }) => void logger.error('export failed', { error }) })
  .handler(route);
