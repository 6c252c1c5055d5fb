import { InvalidInput } from '#lib/errors.ts';
import { isReceiptTime } from '#lib/receipt.ts';

const UNIX = /^\d{1,12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * Unix seconds or ISO-8601 to unix seconds. An ISO date-time without an offset is UTC, never the
 * host's local time, so a lookup means the same on a laptop and in Lambda.
 */
export function parseTime(value: unknown, field: string, code: string): number {
  const seconds = toSeconds(value);
  if (seconds === undefined) {
    throw new InvalidInput(`${field} must be unix seconds or an ISO-8601 date-time`, { field, code });
  }
  if (!isReceiptTime(seconds)) {
    throw new InvalidInput(`${field} must lie between 2000-01-01 and 2100-01-01`, { field, code });
  }
  return seconds;
}

function toSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (UNIX.test(value)) return Number(value);
  if (!ISO.test(value)) return undefined;
  const iso = value.includes('T') && !HAS_OFFSET.test(value) ? `${value}Z` : value;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) || !realDate(value) ? undefined : Math.floor(ms / 1000);
}

/** Date.parse rolls 2024-02-30 over into March; a date must survive a round trip to be real. */
function realDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
