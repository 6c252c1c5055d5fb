import { callingCodeOf } from '#lib/calling-code.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { fnv1a } from './fnv1a.ts';
import { prng } from './prng.ts';

// Tests draw their own reproducible streams from the generator the demo data uses.
export { prng };

/** `count` receipts spread uniformly over a span, given in seconds before the anchor. */
export interface Span {
  count: number;
  fromAgo: number;
  toAgo: number;
}

/** How a number's receipts are generated: `count` receipts in all, those of `bursts` inside them, the rest spread over the span. */
export interface NumberProfile extends Span {
  /** Clusters of receipts; their counts are part of `count`, so `count` stays the number's total. */
  bursts?: Span[];
  /** Share of failed deliveries, 0–1. */
  failRate?: number;
  /** The carrier codes its failures draw from (the country's carriers); the common ones by default. */
  failures?: string[];
  optedOut?: boolean;
}

const MINUTE = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;

/** 200 receipts inside the ten minutes around `hoursAgo`. */
function burst(hoursAgo: number): Span {
  return { count: 200, fromAgo: hoursAgo * HOUR + 5 * MINUTE, toAgo: hoursAgo * HOUR - 5 * MINUTE };
}

/** The demo numbers the README lists, each showing one behaviour. */
export const DEMO_NUMBERS: Record<string, NumberProfile> = {
  '+8613711112222': { count: 40, fromAgo: 7 * DAY - HOUR, toAgo: 60, failRate: 0.1 },
  '+8613800138000': { count: 600, fromAgo: 3 * HOUR, toAgo: 2 * HOUR, failRate: 0.05 },
  '+8615000150000': { count: 30, fromAgo: 20 * HOUR, toAgo: HOUR, failRate: 0.8 },
  '+8613600136000': { count: 150, fromAgo: 5 * HOUR, toAgo: 5 * HOUR, failRate: 0 },
  '+14155550123': { count: 12, fromAgo: 3 * DAY, toAgo: HOUR, failRate: 0.2 },
  '+8613900139000': { count: 0, fromAgo: DAY, toAgo: 0, optedOut: true },
  '+8613500135000': { count: 450, fromAgo: 4 * HOUR, toAgo: 3 * HOUR, failRate: 0.05 },
  '+8613300133000': { count: 700, fromAgo: 6 * DAY - HOUR, toAgo: HOUR, failRate: 0.1 },
  // All 600 in three bursts of 200 (around 30, 20 and 5 hours ago); none spread over the rest of the span.
  '+8613400134000': {
    count: 600,
    fromAgo: 31 * HOUR,
    toAgo: 4 * HOUR,
    bursts: [burst(30), burst(20), burst(5)],
    failRate: 0.05,
  },
  // Beyond mainland China, each with its carriers' codes, for the delivery report (sms-status report):
  // Hong Kong and Taiwan fail now and then, Singapore fails most of the time (a number failing repeatedly).
  '+85291234567': {
    count: 120,
    fromAgo: 6 * DAY - HOUR,
    toAgo: HOUR,
    failRate: 0.15,
    failures: ['UNDELIV', 'EXPIRED', 'DB:0141'],
  },
  '+447700900456': {
    count: 80,
    fromAgo: 5 * DAY,
    toAgo: 2 * HOUR,
    failRate: 0.1,
    failures: ['EXPIRED', 'REJECTD', 'UNDELIV'],
  },
  '+6591234567': {
    count: 60,
    fromAgo: 6 * DAY - HOUR,
    toAgo: 3 * HOUR,
    failRate: 0.6,
    failures: ['REJECTD', 'MK:0005'],
  },
  '+819012345678': { count: 50, fromAgo: 4 * DAY, toAgo: HOUR, failRate: 0.05, failures: ['EXPIRED', 'UNDELIV'] },
  '+886912345678': {
    count: 40,
    fromAgo: 6 * DAY - HOUR,
    toAgo: 30 * MINUTE,
    failRate: 0.3,
    failures: ['DB:0141', 'UNDELIV', 'MK:0005'],
  },
};

/** What each demo number shows, for the banners (`npm start`, README's table). */
export const DEMO_NOTES: Record<string, string> = {
  '+8613711112222': 'ordinary: 40 receipts over the last 7 days',
  '+8613800138000': '600 receipts inside one hour (2-3 hours ago): all=true splits the window',
  '+8615000150000': 'mostly failed deliveries, real carrier codes',
  '+8613600136000': '150 receipts in one second (5 hours ago): complete false',
  '+14155550123': 'an international number',
  '+8613900139000': 'opted out: FailedOperation.PhoneNumberInBlacklist',
  '+8613500135000': '450 receipts inside one hour (3-4 hours ago)',
  '+8613300133000': '700 receipts spread over 6 days',
  '+8613400134000': 'three bursts of 200 (around 30, 20 and 5 hours ago)',
  '+85291234567': 'Hong Kong: 120 over 6 days, 15% failed (UNDELIV, EXPIRED, DB:0141)',
  '+447700900456': 'United Kingdom: 80 over 5 days, 10% failed',
  '+6591234567': 'Singapore: 60 over 6 days, most failed (REJECTD, MK:0005)',
  '+819012345678': 'Japan: 50 over 4 days, 5% failed',
  '+886912345678': 'Taiwan: 40 over 6 days, 30% failed',
};

const SUCCESS = ['DELIVRD'];
const FAILURES = ['UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED', 'UNKNOWN', 'MK:0005', 'MI:0013', 'MN:0001'];

/** A number outside every country's plan still gets receipts: its first two digits stand in for a code. */
function countryCode(phoneNumber: string): string {
  return callingCodeOf(phoneNumber) ?? phoneNumber.slice(1, 3);
}

function hex(random: () => number, length: number): string {
  let out = '';
  while (out.length < length)
    out += Math.floor(random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return out.slice(0, length);
}

export function generate(phoneNumber: string, profile: NumberProfile, anchor: number): PullSmsSendStatus[] {
  const bursts = profile.bursts ?? [];
  const spread = profile.count - bursts.reduce((sum, b) => sum + b.count, 0);
  if (spread < 0) throw new TypeError(`the bursts of ${phoneNumber} hold more than its count of ${profile.count}`);
  // One stream for every span, in order: a profile without bursts keeps the receipts it always had.
  const random = prng(fnv1a(`${phoneNumber}@${anchor}`));
  const code = countryCode(phoneNumber);
  const statuses: PullSmsSendStatus[] = [];
  for (const span of [{ ...profile, count: spread }, ...bursts]) {
    const from = anchor - span.fromAgo;
    const length = span.fromAgo - span.toAgo;
    for (let i = 0; i < span.count; i++) {
      const failed = random() < (profile.failRate ?? 0);
      const pool = failed ? (profile.failures ?? FAILURES) : SUCCESS;
      statuses.push({
        UserReceiveTime: from + Math.floor(random() * (length + 1)),
        CountryCode: code,
        SubscriberNumber: phoneNumber.slice(1 + code.length),
        PhoneNumber: phoneNumber,
        SerialNo: `2433:${hex(random, 34)}`,
        ReportStatus: failed ? 'FAIL' : 'SUCCESS',
        Description: pool[Math.floor(random() * pool.length)] as string,
      });
    }
  }
  return statuses;
}

/** Numbers nobody configured still have a few receipts, so exports over many numbers have data. */
export function defaultProfile(phoneNumber: string, perNumber?: number): NumberProfile {
  const count = perNumber ?? fnv1a(phoneNumber) % 13;
  return { count, fromAgo: 6 * DAY, toAgo: 60, failRate: 0.1 };
}
