import { DEFAULT_UTC_OFFSET, offsetSeconds } from './push-format.ts';

/** What a push sends where: `twin.push(options)`, POST /_twin/push, and the twin's `push` start option. */
export interface PushOptions {
  /** The receiver, as one would configure it in Tencent's SMS console. */
  url: string;
  /** Receipts per second at most, retries included; 500 by default. */
  rate?: number;
  /** Receipts per request at most; 100 by default. */
  batchSize?: number;
  /** Whose receipts; by default the demo numbers and the numbers given profiles at start. */
  numbers?: string[];
  /** Unix seconds; by default seven days (Tencent's retention) before `endTime`. */
  beginTime?: number;
  /** Unix seconds; by default the twin's now. */
  endTime?: number;
  /** The zone of `user_receive_time`; +08:00 (Tencent's) by default. */
  utcOffset?: string;
  /** How long one request may take before it counts as failed; 10 s by default. */
  timeoutMs?: number;
  /** Backoff between attempts at one batch: doubles from the first value up to the second; [100, 5000] by default. */
  backoffMs?: [number, number];
}

export const PUSH_DEFAULTS = {
  rate: 500,
  batchSize: 100,
  utcOffset: DEFAULT_UTC_OFFSET,
  timeoutMs: 10_000,
  backoffMs: [100, 5000] as [number, number],
};

const E164 = /^\+[1-9]\d{4,19}$/;
const MAX_MS = 600_000;

function isNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function isBackoff(value: unknown): boolean {
  if (!Array.isArray(value) || value.length !== 2) return false;
  const [first, most] = value as unknown[];
  return isNumberIn(first, 1, MAX_MS) && isNumberIn(most, 1, MAX_MS) && first <= most;
}

/**
 * Each option's check and the rule it states. The rule leaves the name out, so a variable or a flag that
 * sets the option (TWIN_PUSH_RATE, --push-rate) can be named in its place.
 */
export const PUSH_RULES: Record<keyof PushOptions, { ok(value: unknown): boolean; rule: string }> = {
  url: { ok: isHttpUrl, rule: 'must be an http(s) URL, e.g. http://127.0.0.1:3000/v1/callbacks/tencent/<token>' },
  rate: {
    ok: (v) => isNumberIn(v, 0, 1e6) && v > 0,
    rule: 'must be receipts per second, a number above 0 up to 1000000',
  },
  batchSize: {
    ok: (v) => Number.isInteger(v) && isNumberIn(v, 1, 10_000),
    rule: 'must be a whole number of receipts from 1 to 10000',
  },
  numbers: {
    ok: (v) => Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === 'string' && E164.test(n)),
    rule: 'must be a non-empty list of E.164 phone numbers such as +8613711112222',
  },
  beginTime: { ok: (v) => isNumberIn(v, 0, Number.MAX_SAFE_INTEGER), rule: 'must be unix seconds' },
  endTime: { ok: (v) => isNumberIn(v, 0, Number.MAX_SAFE_INTEGER), rule: 'must be unix seconds' },
  utcOffset: {
    ok: (v) => offsetSeconds(v) !== undefined,
    rule: 'must be a UTC offset from -14:00 to +14:00 such as +08:00',
  },
  timeoutMs: { ok: (v) => isNumberIn(v, 1, MAX_MS), rule: `must be milliseconds from 1 to ${MAX_MS}` },
  backoffMs: { ok: isBackoff, rule: `must be a [first, most] pair of milliseconds from 1 to ${MAX_MS}, first <= most` },
};
export const PUSH_FIELDS = Object.keys(PUSH_RULES) as (keyof PushOptions)[];

/** What is wrong with push options, naming the field (after `prefix`), or undefined; `url` is required. */
export function pushProblem(options: unknown, prefix = ''): string | undefined {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    return `${prefix || 'push options '}must be an object`;
  const value = options as Record<string, unknown>;
  const extra = Object.keys(value).find((key) => !(PUSH_FIELDS as string[]).includes(key));
  if (extra !== undefined) return `${prefix}${extra || '(empty)'} is not a push field (${PUSH_FIELDS.join(', ')})`;
  if (value.url === undefined) return `${prefix}url is required: ${PUSH_RULES.url.rule}`;
  for (const field of PUSH_FIELDS) {
    if (value[field] !== undefined && !PUSH_RULES[field].ok(value[field]))
      return `${prefix}${field} ${PUSH_RULES[field].rule}`;
  }
  if (typeof value.beginTime === 'number' && typeof value.endTime === 'number' && value.beginTime > value.endTime) {
    return `${prefix}beginTime must not be after endTime`;
  }
  return undefined;
}
