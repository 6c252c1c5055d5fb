import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { logger } from '#lib/observability/logger.ts';
import { metrics, MetricUnit } from '#lib/observability/metrics.ts';
import { paceMetrics } from './middleware/pace-metrics.ts';
import { loadExportConfig, loadTencentConfig } from '#lib/config.ts';
import { exportSettings } from '#lib/export/from-config.ts';
import { transientError } from '#lib/export/groups.ts';
import { requestOf } from '#lib/export/request.ts';
import { runExport, type ExportDeps } from '#lib/export/run.ts';
import type { RunSummary } from '#lib/export/state.ts';
import { s3Store } from '#lib/export/store.ts';
import { commitRun, exportShard, planRun, workflowEventOf, type Plan, type ShardResult } from '#lib/export/workflow.ts';
import { EXPORT_RETRY } from '#lib/pace/retry.ts';
import { connect } from '#lib/tencent/connect.ts';

// Read once per container: a wrong variable fails the cold start, naming the variable.
const tencent = loadTencentConfig(process.env);
const config = loadExportConfig(process.env);
const client = connect(tencent, { retry: EXPORT_RETRY });
const store = s3Store({ local: config.localS3 });
const settings = exportSettings(config, tencent);

/**
 * EventBridge Scheduler and `aws lambda invoke`: one export invocation. A run cut short by the time
 * limit returns `complete: false` and the next invocation resumes it; numbers still failing after every
 * retry make it throw UpstreamUnavailable, so the platform retries (the window is redone).
 */
async function run(deps: ExportDeps, event: unknown): Promise<RunSummary> {
  const summary = reported(await runExport(deps, settings, requestOf(event)));
  const failing = transientError(summary.failures);
  if (failing) throw failing;
  return summary;
}

function reported(summary: RunSummary): RunSummary {
  metrics.addMetric('RecordsExported', MetricUnit.Count, summary.records);
  const { failures, incompleteNumbers, manifestProblems, ...figures } = summary;
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
    case 'shard': {
      const result = await exportShard(deps, settings, step.plan, step.shard);
      metrics.addMetric('RecordsExported', MetricUnit.Count, result.totals.records);
      return result;
    }
    case 'commit':
      return reported(await commitRun(deps, settings, step.plan, step.results));
  }
}

/** Step Functions steps (`action`: plan, shard, commit) and plain runs; errors keep their taxonomy names. */
export const handler = middy<unknown, RunSummary | Plan | ShardResult>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(paceMetrics(client))
  .use({ onError: ({ error }) => void logger.error('export failed', { error }) })
  .handler(route);
