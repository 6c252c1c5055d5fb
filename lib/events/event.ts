import { recordFields, type ExportRecord } from '#lib/lake/line.ts';
import type { MergeChanges } from '#lib/lake/merge.ts';

export const EVENT_SOURCE = 'sms-status';
export const EVENT_DETAIL_TYPE = 'SMS Delivery Status Updated';

/** Which writer of the lake made the change: the callback's inbox drain, or an export. */
export type Origin = 'push' | 'pull';

/** The detail of a delivery event (shared/PRODUCT.md, "Delivery events"): the receipt, full number and all. */
export interface DeliveryDetail extends ExportRecord {
  origin: Origin;
  change: 'new' | 'updated';
  previous?: { reportStatus: string; description: string };
}

/** The events a merge's changes make: one per receipt new to the lake or whose status or code changed. */
export function eventsOf(changes: MergeChanges, origin: Origin): DeliveryDetail[] {
  return [
    ...changes.added.map((record) => ({ ...recordFields(record), origin, change: 'new' as const })),
    ...changes.updated.map(({ record, previous }) => ({
      ...recordFields(record),
      origin,
      change: 'updated' as const,
      previous,
    })),
  ];
}

/** A PutEvents entry for the bus: `Time` the receipt's own. */
export interface EventEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  Time: Date;
  EventBusName: string;
}

export function entryOf(detail: DeliveryDetail, busName: string): EventEntry {
  return {
    Source: EVENT_SOURCE,
    DetailType: EVENT_DETAIL_TYPE,
    Detail: JSON.stringify(detail),
    Time: new Date(detail.userReceiveTime * 1000),
    EventBusName: busName,
  };
}
