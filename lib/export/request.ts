import { present } from '#lib/status/query.ts';
import { InvalidInput } from '#lib/errors.ts';
import { rejectUnknownFields } from '#lib/fields.ts';

/** An export as the schedule, Step Functions, `aws lambda invoke` or the CLI asks for it. */
export interface ExportRequest {
  phoneNumbers?: unknown;
  manifest?: unknown;
  beginTime?: unknown;
  endTime?: unknown;
  /** The reconciliation sweep: the last EXPORT_RECONCILE_SECONDS again, for receipts reported late. */
  reconcile?: unknown;
}

const FIELDS = new Set(['phoneNumbers', 'manifest', 'beginTime', 'endTime', 'reconcile']);

/** An EventBridge scheduled event (or an empty one) carries no request: use the configured defaults. */
export function requestOf(event: unknown): ExportRequest {
  if (event === undefined || event === null) return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidInput('the export event must be an object: {phoneNumbers?, manifest?, beginTime?, endTime?}', {
      field: 'event',
    });
  }
  const record = event as Record<string, unknown>;
  // Our Scheduler inputs {"schedule": "hourly" | "reconcile"}, or an EventBridge rule's event: the configured numbers.
  if ('schedule' in record) return scheduleOf(record);
  if (record.source === 'aws.events' || record['detail-type'] === 'Scheduled Event') {
    rejectUnknownFields(record, EVENTBRIDGE_FIELDS);
    return {};
  }
  rejectUnknownFields(record, FIELDS);
  if (present(record.reconcile) && typeof record.reconcile !== 'boolean')
    throw new InvalidInput('reconcile must be true or false', { field: 'reconcile' });
  if (record.reconcile === true && explicitWindow(record)) {
    throw new InvalidInput('reconcile sweeps the last EXPORT_RECONCILE_SECONDS: give no beginTime or endTime with it', {
      field: 'reconcile',
    });
  }
  return record;
}

const EVENTBRIDGE_FIELDS = new Set([
  'version',
  'id',
  'detail-type',
  'source',
  'account',
  'time',
  'region',
  'resources',
  'detail',
]);

/** A schedule's input stands alone: numbers or a window beside it would be dropped without a word. */
function scheduleOf(record: Record<string, unknown>): ExportRequest {
  rejectUnknownFields(record, new Set(['schedule']));
  if (record.schedule === 'reconcile') return { reconcile: true };
  if (record.schedule === 'hourly') return {};
  throw new InvalidInput("schedule must be 'hourly' or 'reconcile'", { field: 'schedule' });
}

/** The request names its own window (beginTime or endTime). */
export function explicitWindow(request: ExportRequest): boolean {
  return present(request.beginTime) || present(request.endTime);
}
