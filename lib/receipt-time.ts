/**
 * The seconds a delivery receipt can carry: from 2000 up to (not including) 2100. A time outside is a
 * typo or damage, never a receipt, and past year 275760 a Date cannot even hold it.
 */
export const RECEIPT_TIMES = { from: 946_684_800, until: 4_102_444_800 } as const;

export function isReceiptTime(seconds: number): boolean {
  return Number.isSafeInteger(seconds) && seconds >= RECEIPT_TIMES.from && seconds < RECEIPT_TIMES.until;
}
