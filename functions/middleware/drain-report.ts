import { logger } from '#lib/observability/logger.ts';
import { metrics, MetricUnit } from '#lib/observability/metrics.ts';
import type { DrainSummary } from '#lib/push/inbox.ts';
import { refusedEvents } from '#lib/events/deliver.ts';

/**
 * Logs a drain's summary as one line and emits its metrics; quarantined or rebuilt objects are errors to look at.
 * The drain sweeps the outbox every minute, so its EventsOwed says whether EventBridge takes any writer's events.
 */
export function reportDrain(summary: DrainSummary): void {
  metrics.addMetric('InboxObjectsDrained', MetricUnit.Count, summary.objects);
  metrics.addMetric('InboxRecordsMerged', MetricUnit.Count, summary.records);
  metrics.addMetric('InboxQuarantined', MetricUnit.Count, summary.quarantined);
  metrics.addMetric('CorruptObjects', MetricUnit.Count, summary.corruptObjects.length);
  metrics.addMetric('EventsPublished', MetricUnit.Count, summary.events.published);
  metrics.addMetric('EventsOwed', MetricUnit.Count, refusedEvents(summary.events));
  const problems = summary.quarantined > 0 || summary.corruptObjects.length > 0;
  logger[problems ? 'error' : 'info']('inbox drain', { ...summary });
}
