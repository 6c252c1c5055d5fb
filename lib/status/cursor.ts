import type { StatusRecord } from '#lib/receipt.ts';

/**
 * A place in a lookup's order (receive time, then serialNo): a later page continues strictly after it.
 * A serialNo of '' is the start of that second (every real serialNo sorts after it).
 */
export interface Cursor {
  time: number;
  serialNo: string;
}

export function isAfter(record: Pick<StatusRecord, 'userReceiveTime' | 'serialNo'>, cursor: Cursor): boolean {
  return (
    record.userReceiveTime > cursor.time ||
    (record.userReceiveTime === cursor.time && record.serialNo > cursor.serialNo)
  );
}

export function cursorAt(record: Pick<StatusRecord, 'userReceiveTime' | 'serialNo'>): Cursor {
  return { time: record.userReceiveTime, serialNo: record.serialNo };
}

export function startOfSecond(time: number): Cursor {
  return { time, serialNo: '' };
}
