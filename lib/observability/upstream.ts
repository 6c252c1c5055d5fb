import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Exchange } from '#lib/tencent/client.ts';

/** What the Lambdas tell of each Tencent request: one latency value and one debug line (redacted). */
export function upstreamObserver(logger: Logger, metrics: Metrics): (exchange: Exchange) => void {
  return ({ request, latencyMs, ...outcome }) => {
    metrics.addMetric('UpstreamLatency', MetricUnit.Milliseconds, latencyMs);
    logger.debug('Tencent PullSmsSendStatusByPhoneNumber', {
      ...request,
      ...outcome,
      latencyMs: Math.round(latencyMs),
    });
  };
}
