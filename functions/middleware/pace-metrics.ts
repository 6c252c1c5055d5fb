import type middy from '@middy/core';
import { metrics, MetricUnit } from '#lib/observability/metrics.ts';
import type { PaceStats } from '#lib/pace/paced.ts';

/** Adds the invocation's Tencent requests, retries and throttles to its metrics. */
export function paceMetrics(client: { stats: PaceStats }): middy.MiddlewareObj {
  let before: PaceStats = { ...client.stats };
  const record = (): void => {
    metrics.addMetric('TencentRequests', MetricUnit.Count, client.stats.requests - before.requests);
    metrics.addMetric('Retries', MetricUnit.Count, client.stats.retries - before.retries);
    metrics.addMetric('Throttles', MetricUnit.Count, client.stats.throttles - before.throttles);
  };
  return {
    before() {
      before = { ...client.stats };
    },
    after: record,
    onError: record,
  };
}
