import { FAULT_KINDS } from './faults.ts';
import type { TwinOptions, TwinPatch } from './options.ts';
import { TWIN_ORDERS, type TwinOrder } from './order.ts';

const MAX_DELAY_SECONDS = 7 * 24 * 3600;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

function isFaultKind(value: unknown): boolean {
  return (FAULT_KINDS as readonly unknown[]).includes(value);
}

function unknownField(value: Record<string, unknown>, known: readonly string[], field: string): string | undefined {
  const extra = Object.keys(value).find((key) => !known.includes(key));
  return extra === undefined ? undefined : `${field}.${extra} is not a known field (${known.join(', ')})`;
}

/** A fixed value in [min, max], or a [low, high] pair within it; what is wrong, or undefined. */
function rangeProblem(value: unknown, field: string, min: number, max: number, unit: string): string | undefined {
  if (isNumberIn(value, min, max)) return undefined;
  if (Array.isArray(value) && value.length === 2 && value.every((v) => isNumberIn(v, min, max))) {
    return (value[0] as number) <= (value[1] as number) ? undefined : `${field} [min, max] needs min <= max`;
  }
  return `${field} must be ${unit} from ${min} to ${max}, or a [min, max] pair of them`;
}

function faultsProblem(value: unknown, field: string): string | undefined {
  if (!isObject(value)) return `${field} must be an object {rate?, kinds?, hangMs?, script?}`;
  const extra = unknownField(value, ['rate', 'kinds', 'hangMs', 'script'], field);
  if (extra) return extra;
  if (value.rate !== undefined && !isNumberIn(value.rate, 0, 1)) return `${field}.rate must be a number from 0 to 1`;
  if (value.hangMs !== undefined && !isNumberIn(value.hangMs, 0, 600_000))
    return `${field}.hangMs must be milliseconds from 0 to 600000`;
  if (
    value.kinds !== undefined &&
    !(Array.isArray(value.kinds) && value.kinds.length > 0 && value.kinds.every(isFaultKind))
  ) {
    return `${field}.kinds must be a non-empty list of ${FAULT_KINDS.join(', ')}`;
  }
  if (value.script !== undefined) {
    if (!Array.isArray(value.script)) return `${field}.script must be a list of faults`;
    const bad = value.script.findIndex(
      (f) => !(isFaultKind(f) || (isObject(f) && typeof f.code === 'string' && f.code !== '')),
    );
    if (bad >= 0)
      return `${field}.script[${bad}] must be one of ${FAULT_KINDS.join(', ')} or {"code": "<Tencent error code>"}`;
  }
  return undefined;
}

function lateReportsProblem(value: unknown, field: string): string | undefined {
  if (!isObject(value)) return `${field} must be an object {"share": 0–1, "delaySeconds": seconds or [min, max]}`;
  const extra = unknownField(value, ['share', 'delaySeconds'], field);
  if (extra) return extra;
  if (!isNumberIn(value.share, 0, 1)) return `${field}.share must be a number from 0 to 1`;
  return rangeProblem(value.delaySeconds, `${field}.delaySeconds`, 0, MAX_DELAY_SECONDS, 'seconds');
}

function holdProblem(value: unknown, field: string): string | undefined {
  if (!isObject(value)) return `${field} must be an object {"<SerialNo>": <unix seconds when visible>}`;
  const bad = Object.entries(value).find(([, at]) => !isNumberIn(at, 0, Number.MAX_SAFE_INTEGER));
  return bad ? `${field}[${JSON.stringify(bad[0])}] must be unix seconds (a number from 0)` : undefined;
}

/** Checks of every field `configure` takes; each answers what is wrong, naming the field, or undefined. */
const PATCH_CHECKS: Record<keyof TwinPatch, (value: unknown, field: string) => string | undefined> = {
  latencyMs: (value, field) => rangeProblem(value, field, 0, 600_000, 'milliseconds'),
  rateLimit: (value, field) =>
    isNumberIn(value, 0, 1e9) && value > 0 ? undefined : `${field} must be a number of requests above 0`,
  faults: faultsProblem,
  lateReports: lateReportsProblem,
  hold: holdProblem,
  order: (value, field) =>
    TWIN_ORDERS.includes(value as TwinOrder) ? undefined : `${field} must be one of ${TWIN_ORDERS.join(', ')}`,
};
export const PATCH_FIELDS = Object.keys(PATCH_CHECKS) as (keyof TwinPatch)[];

/** What is wrong with a configure patch, naming the field, or undefined; undefined (null) values turn a knob off. */
export function patchProblem(patch: unknown): string | undefined {
  if (!isObject(patch)) return 'the patch must be an object';
  const extra = Object.keys(patch).find((key) => !(PATCH_FIELDS as string[]).includes(key));
  if (extra) return `${extra} is not a field configure knows (${PATCH_FIELDS.join(', ')})`;
  for (const field of PATCH_FIELDS) {
    const value = patch[field];
    if (value === undefined || (value === null && (field === 'lateReports' || field === 'hold'))) continue;
    const problem = PATCH_CHECKS[field](value, field);
    if (problem) return problem;
  }
  return undefined;
}

/** What is wrong with the start options `lateReports`, `hold` and `order`, named as `configure` names them, or undefined. */
export function optionsProblem(options: TwinOptions): string | undefined {
  for (const key of ['lateReports', 'hold', 'order'] as const) {
    const problem = options[key] === undefined ? undefined : PATCH_CHECKS[key](options[key], key);
    if (problem) return problem;
  }
  return undefined;
}
