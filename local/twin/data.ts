import { fnv1a } from '#lib/export/plan.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';

/** How a number's receipts are generated: `count` receipts spread over [from, to] (unix seconds). */
export interface NumberProfile {
  count: number;
  /** Seconds before the anchor where the receipts start and end. */
  fromAgo: number;
  toAgo: number;
  /** Share of failed deliveries, 0–1. */
  failRate?: number;
  optedOut?: boolean;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

/** The demo numbers the README lists, each showing one behaviour. */
export const DEMO_NUMBERS: Record<string, NumberProfile> = {
  '+8613711112222': { count: 40, fromAgo: 7 * DAY - HOUR, toAgo: 60, failRate: 0.1 },
  '+8613800138000': { count: 600, fromAgo: 3 * HOUR, toAgo: 2 * HOUR, failRate: 0.05 },
  '+8615000150000': { count: 30, fromAgo: 20 * HOUR, toAgo: HOUR, failRate: 0.8 },
  '+8613600136000': { count: 150, fromAgo: 5 * HOUR, toAgo: 5 * HOUR, failRate: 0 },
  '+14155550123': { count: 12, fromAgo: 3 * DAY, toAgo: HOUR, failRate: 0.2 },
  '+8613900139000': { count: 0, fromAgo: DAY, toAgo: 0, optedOut: true },
};

const SUCCESS = ['DELIVRD'];
const FAILURES = ['UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED', 'UNKNOWN', 'MK:0005', 'MI:0013', 'MN:0001'];

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function countryCode(phoneNumber: string): string {
  // Enough for demo data: the plans the twin's demo numbers use.
  for (const code of ['86', '852', '853', '886', '1', '44', '65', '81']) {
    if (phoneNumber.startsWith(`+${code}`)) return code;
  }
  return phoneNumber.slice(1, 3);
}

function hex(random: () => number, length: number): string {
  let out = '';
  while (out.length < length) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, length);
}

export function generate(phoneNumber: string, profile: NumberProfile, anchor: number): PullSmsSendStatus[] {
  const random = prng(fnv1a(`${phoneNumber}@${anchor}`));
  const code = countryCode(phoneNumber);
  const from = anchor - profile.fromAgo;
  const span = profile.fromAgo - profile.toAgo;
  const statuses: PullSmsSendStatus[] = [];
  for (let i = 0; i < profile.count; i++) {
    const failed = random() < (profile.failRate ?? 0);
    const pool = failed ? FAILURES : SUCCESS;
    statuses.push({
      UserReceiveTime: from + Math.floor(random() * (span + 1)),
      CountryCode: code,
      SubscriberNumber: phoneNumber.slice(1 + code.length),
      PhoneNumber: phoneNumber,
      SerialNo: `2433:${hex(random, 34)}`,
      ReportStatus: failed ? 'FAIL' : 'SUCCESS',
      Description: pool[Math.floor(random() * pool.length)] as string,
    });
  }
  return statuses;
}

/** Numbers nobody configured still have a few receipts, so exports over many numbers have data. */
export function defaultProfile(phoneNumber: string, perNumber?: number): NumberProfile {
  const count = perNumber ?? fnv1a(phoneNumber) % 13;
  return { count, fromAgo: 6 * DAY, toAgo: 60, failRate: 0.1 };
}
