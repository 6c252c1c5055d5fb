/**
 * Failures the stand-in injects on request, from one seeded stream so that a seed replays a run:
 *
 * - `down`: every EventBridge call is answered HTTP 500 `InternalException`, the one error PutEvents
 *   models. The SDK counts a 500 as transient and retries it, so a client's whole retry path runs and
 *   then meets a named server-fault error. (Connection refused, the other face of an outage, is what a
 *   closed stand-in gives; a listener closed on request could not be told over HTTP to open again.)
 * - `callThrottleRate`: that share of calls is refused whole with HTTP 400 `ThrottlingException`,
 *   which the SDK retries with back-off as throttling.
 * - `entryFailureRate`: that share of otherwise good entries fails alone with `entryFailureCode`
 *   (`InternalFailure` or `ThrottlingException`, the retryable entry codes), the call still succeeding.
 */
import { prng } from '../twin/prng.ts';
import { AwsError } from './aws-json.ts';
import type { EntryRefusal } from './entry-rules.ts';

export const ENTRY_FAILURE_CODES = ['InternalFailure', 'ThrottlingException'] as const;
export type EntryFailureCode = (typeof ENTRY_FAILURE_CODES)[number];

export interface FaultSettings {
  down: boolean;
  /** Share (0–1) of calls refused whole with ThrottlingException. */
  callThrottleRate: number;
  /** Share (0–1) of good entries refused with `entryFailureCode`. */
  entryFailureRate: number;
  entryFailureCode: EntryFailureCode;
  /** Seeds the stream the shares are drawn from; setting it again starts the stream afresh. */
  seed: number;
}

export type FaultPatch = Partial<FaultSettings>;

export const FAULT_FIELDS = ['down', 'callThrottleRate', 'entryFailureRate', 'entryFailureCode', 'seed'] as const;

const DEFAULT_FAULTS: FaultSettings = {
  down: false,
  callThrottleRate: 0,
  entryFailureRate: 0,
  entryFailureCode: 'InternalFailure',
  seed: 1,
};

function shareProblem(value: unknown, field: string): string | undefined {
  const isShare = value === undefined || (typeof value === 'number' && value >= 0 && value <= 1);
  return isShare ? undefined : `${field} must be a number from 0 to 1`;
}

/** What is wrong with a patch (named by field), or undefined. */
export function faultPatchProblem(patch: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(patch).find((key) => !(FAULT_FIELDS as readonly string[]).includes(key));
  if (unknown !== undefined) return `${unknown} is not a known setting (${FAULT_FIELDS.join(', ')})`;
  const { down, callThrottleRate, entryFailureRate, entryFailureCode, seed } = patch;
  if (down !== undefined && typeof down !== 'boolean') return 'down must be true or false';
  const badShare =
    shareProblem(callThrottleRate, 'callThrottleRate') ?? shareProblem(entryFailureRate, 'entryFailureRate');
  if (badShare) return badShare;
  if (entryFailureCode !== undefined && !(ENTRY_FAILURE_CODES as readonly unknown[]).includes(entryFailureCode)) {
    return `entryFailureCode must be one of ${ENTRY_FAILURE_CODES.join(', ')}`;
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) return 'seed must be a whole number';
  return undefined;
}

export interface Faults {
  settings(): FaultSettings;
  /** Applies a patch checked by faultPatchProblem; throws naming the field otherwise. */
  configure(patch: FaultPatch): void;
  /** The error this call is refused with, or undefined to serve it. */
  callFault(): AwsError | undefined;
  /** The injected failure of a good entry, or undefined to accept it. */
  entryFault(): EntryRefusal | undefined;
}

export function createFaults(initial: FaultPatch): Faults {
  let settings: FaultSettings = { ...DEFAULT_FAULTS };
  let random = prng(settings.seed);
  const configure = (patch: FaultPatch): void => {
    const problem = faultPatchProblem(patch as Record<string, unknown>);
    if (problem) throw new TypeError(`EventBridge stand-in: ${problem}`);
    // An undefined field keeps its setting (options are often passed through from something optional).
    settings = { ...settings, ...Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) };
    if (patch.seed !== undefined) random = prng(patch.seed);
  };
  configure(initial);
  return {
    settings: () => ({ ...settings }),
    configure,
    callFault() {
      if (settings.down) return new AwsError('InternalException', 'EventBridge is down (stand-in down mode).', 500);
      if (!(settings.callThrottleRate > 0 && random() < settings.callThrottleRate)) return undefined;
      return new AwsError('ThrottlingException', 'Rate exceeded (injected).');
    },
    entryFault() {
      if (!(settings.entryFailureRate > 0 && random() < settings.entryFailureRate)) return undefined;
      return { ErrorCode: settings.entryFailureCode, ErrorMessage: `${settings.entryFailureCode} (injected).` };
    },
  };
}
