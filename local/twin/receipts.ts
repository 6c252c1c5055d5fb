import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { defaultProfile, generate, type NumberProfile } from './data.ts';

/** The twin's ground truth: every number's receipts, generated on first use and fixed from then on. */
export interface Receipts {
  profile(phoneNumber: string): NumberProfile;
  /** Every receipt of a number inside [beginTime, endTime], sorted by receive time. */
  truth(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[];
}

/** Receipts laid out relative to `anchor` (unix seconds on the hour), so the truth is stable for the twin's life. */
export function createReceipts(numbers: Record<string, NumberProfile>, anchor: number, perNumber?: number): Receipts {
  const store = new Map<string, PullSmsSendStatus[]>();
  const profile = (phoneNumber: string): NumberProfile =>
    numbers[phoneNumber] ?? defaultProfile(phoneNumber, perNumber);
  function statuses(phoneNumber: string): PullSmsSendStatus[] {
    let list = store.get(phoneNumber);
    if (!list) {
      list = generate(phoneNumber, profile(phoneNumber), anchor);
      store.set(phoneNumber, list);
    }
    return list;
  }
  return {
    profile,
    truth: (phoneNumber, beginTime, endTime) =>
      statuses(phoneNumber)
        .filter((s) => (s.UserReceiveTime as number) >= beginTime && (s.UserReceiveTime as number) <= endTime)
        .sort((a, b) => (a.UserReceiveTime as number) - (b.UserReceiveTime as number)),
  };
}
