import type { NumberProfile } from './data.ts';
import type { FaultOptions } from './faults.ts';
import type { LateReports } from './late-reports.ts';
import type { TwinOrder } from './order.ts';
import type { PushOptions } from './push-options.ts';
import type { TwinCredentials } from './verify.ts';

export interface TwinOptions {
  port?: number;
  host?: string;
  credentials?: TwinCredentials;
  sdkAppId?: string;
  /** Start the twin's clock at this time (ms since epoch); it then runs at real speed. */
  clock?: number;
  /** Added latency per answer: fixed, or uniform in [min, max]. */
  latencyMs?: number | [number, number];
  faults?: FaultOptions;
  /** Requests per sliding second before RequestLimitExceeded. */
  rateLimit?: number;
  /** Receipts for numbers with no profile; by default 0–12 chosen from the number. */
  perNumber?: number;
  numbers?: Record<string, NumberProfile>;
  seed?: number;
  /** Hold a deterministic share of receipts back (late reports); off by default. */
  lateReports?: LateReports;
  /**
   * Explicit holds for precise tests: SerialNo → unix seconds from which the API returns that receipt.
   * An entry overrides `lateReports` for its receipt (a time at or before UserReceiveTime releases one
   * that `lateReports` would hold). SerialNos are known from `truth()`, so a test usually sets this
   * through `configure({ hold })`, which replaces the whole map.
   */
  hold?: Record<string, number>;
  /** The order of the API's answers, and so which records a full page holds; 'shuffled' by default. */
  order?: TwinOrder;
  /** Push receipts to a callback URL from the start (TWIN_PUSH_URL, --push-url); a bad option fails the start. */
  push?: PushOptions;
}

/**
 * What `configure` and POST /_twin/configure change; `lateReports`/`hold` undefined (null over HTTP) turn
 * them off, an undefined `order` keeps the current one.
 */
export type TwinPatch = Pick<TwinOptions, 'latencyMs' | 'faults' | 'rateLimit' | 'lateReports' | 'hold' | 'order'>;

/** The knobs in force, as GET /_twin/settings shows them: a patch with every knob that has a default set. */
export type TwinSettings = TwinPatch & { faults: FaultOptions; rateLimit: number; order: TwinOrder };

/** The settings a twin starts with. */
export function initialSettings(options: TwinOptions): TwinSettings {
  return {
    latencyMs: options.latencyMs,
    faults: options.faults ?? {},
    rateLimit: options.rateLimit ?? 20,
    lateReports: options.lateReports,
    hold: options.hold,
    order: options.order ?? 'shuffled',
  };
}

/** `settings` changed by `patch`; an order left undefined keeps the current one (there is no "off" for it). */
export function patched(settings: TwinSettings, patch: TwinPatch): TwinSettings {
  return { ...settings, ...patch, order: patch.order ?? settings.order };
}
