// A delivery receipt: its fields, its order, and the times it can carry.
/**
 * The seconds a delivery receipt can carry: from 2000 up to (not including) 2100. A time outside is a
 * typo or damage, never a receipt, and past year 275760 a Date cannot even hold it.
 */
export const RECEIPT_TIMES = { from: 946_684_800, until: 4_102_444_800 } as const;

export function isReceiptTime(seconds: number): boolean {
  return Number.isSafeInteger(seconds) && seconds >= RECEIPT_TIMES.from && seconds < RECEIPT_TIMES.until;
}

/** One delivery receipt, as the HTTP API, the direct invocation, the lake and the export present it. */
export interface StatusRecord {
  serialNo: string;
  phoneNumber: string;
  countryCode: string;
  subscriberNumber: string;
  /** SUCCESS or FAIL. */
  reportStatus: string;
  /** The carrier's raw receipt code (DELIVRD, UNDELIV, MK:0001, …). */
  description: string;
  /** Unix seconds. */
  userReceiveTime: number;
}

/** Receive time first; serial number breaks ties so the order is total and repeatable. */
export function byReceiveTime(a: StatusRecord, b: StatusRecord): number {
  return a.userReceiveTime - b.userReceiveTime || (a.serialNo < b.serialNo ? -1 : a.serialNo > b.serialNo ? 1 : 0);
}

/** Receipts counted by status and country calling code (`SUCCESS 86`): the delivery metrics' dimensions. */
export function tallyOf(records: Iterable<Pick<StatusRecord, 'reportStatus' | 'countryCode'>>): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const { reportStatus, countryCode } of records) {
    const key = `${reportStatus} ${countryCode}`;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}
