import type { ExportRecord } from '#lib/lake/line.ts';
import { isReceiptTime } from '#lib/receipt.ts';
import { isE164 } from '#lib/phone-number.ts';

const TEXT_FIELDS = [
  'serialNo',
  'phoneNumber',
  'countryCode',
  'subscriberNumber',
  'reportStatus',
  'description',
  'sdkAppId',
] as const;

/**
 * One line of an inbox object → the record it holds, checked field by field: only what the receiver
 * could have written passes, so a damaged or foreign object is quarantined rather than merged.
 */
export function parseInboxLine(line: string): ExportRecord {
  const value = JSON.parse(line) as Record<string, unknown> | null;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError('a line is not a delivery record');
  for (const field of TEXT_FIELDS) {
    if (typeof value[field] !== 'string') throw new TypeError(`a line's ${field} is not a string`);
  }
  const time = value.userReceiveTime;
  if (typeof time !== 'number' || !isReceiptTime(time))
    throw new TypeError("a line's userReceiveTime is not a receipt's time");
  const record = value as unknown as ExportRecord;
  if (record.serialNo === '' || !isE164(record.phoneNumber))
    throw new TypeError("a line's serialNo or phoneNumber is not valid");
  const { serialNo, phoneNumber, countryCode, subscriberNumber, reportStatus, description, userReceiveTime, sdkAppId } =
    record;
  return { serialNo, phoneNumber, countryCode, subscriberNumber, reportStatus, description, userReceiveTime, sdkAppId };
}
