import { oldestDefaultBegin, parseWindow, present } from '#lib/status/query.ts';
import { InvalidInput } from '#lib/errors.ts';
import { collect, parseManifest, parseS3Url, type ManifestProblem } from './manifest.ts';
import { digest, scheduledWindow } from './plan.ts';
import type { Window, WindowSettings } from './types.ts';
import { readText, type ObjectStore } from './store.ts';

/** An export as the schedule, Step Functions, `aws lambda invoke` or the CLI asks for it. */
export interface ExportRequest {
  phoneNumbers?: unknown;
  manifest?: unknown;
  beginTime?: unknown;
  endTime?: unknown;
  /** The reconciliation sweep: the last EXPORT_RECONCILE_SECONDS again, for receipts reported late. */
  reconcile?: unknown;
}

export interface ResolvedNumbers {
  numbers: string[];
  problems: ManifestProblem[];
  problemCount: number;
  duplicates: number;
}

/** What a summary says of the numbers, without the numbers: small enough to travel in a workflow plan. */
export interface NumberReport {
  total: number;
  problems: ManifestProblem[];
  problemCount: number;
  duplicates: number;
}

export function numberReport({ numbers, problems, problemCount, duplicates }: ResolvedNumbers): NumberReport {
  return { total: numbers.length, problems, problemCount, duplicates };
}

export interface NumberDefaults {
  phoneNumbers?: string[];
  manifest?: string;
}

const FIELDS = new Set(['phoneNumbers', 'manifest', 'beginTime', 'endTime', 'reconcile']);
export const MAX_EVENT_NUMBERS = 10_000;
export const DEFAULT_RECONCILE_SECONDS = 72 * 3600;

/** An EventBridge scheduled event (or an empty one) carries no request: use the configured defaults. */
export function requestOf(event: unknown): ExportRequest {
  if (event === undefined || event === null) return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidInput('the export event must be an object: {phoneNumbers?, manifest?, beginTime?, endTime?}', { field: 'event' });
  }
  const record = event as Record<string, unknown>;
  // Our Scheduler inputs {"schedule": "hourly" | "reconcile"}, or an EventBridge rule's event: the configured numbers.
  if (record.schedule === 'reconcile') return { reconcile: true };
  if (record.source === 'aws.events' || record['detail-type'] === 'Scheduled Event' || typeof record.schedule === 'string') return {};
  const unknown = Object.keys(record).find((key) => !FIELDS.has(key));
  if (unknown) {
    throw new InvalidInput(`unknown field '${unknown.slice(0, 64)}': expected ${[...FIELDS].join(', ')}`, { field: unknown.slice(0, 64) });
  }
  if (present(record.reconcile) && typeof record.reconcile !== 'boolean') throw new InvalidInput('reconcile must be true or false', { field: 'reconcile' });
  if (record.reconcile === true && explicitWindow(record)) {
    throw new InvalidInput('reconcile sweeps the last EXPORT_RECONCILE_SECONDS: give no beginTime or endTime with it', { field: 'reconcile' });
  }
  return record;
}

/** The job a request belongs to: runs of the same job share a checkpoint and resume each other. */
export function jobIdOf(request: ExportRequest, defaults: NumberDefaults): string {
  const source = present(request.phoneNumbers) || present(request.manifest)
    ? { phoneNumbers: request.phoneNumbers, manifest: request.manifest }
    : { phoneNumbers: defaults.phoneNumbers, manifest: defaults.manifest };
  const sourceId = digest(source);
  if (request.reconcile === true) return `reconcile-${sourceId}`;
  if (!explicitWindow(request)) return `scheduled-${sourceId}`;
  return `window-${String(request.beginTime)}-${String(request.endTime ?? 'now')}-${sourceId}`.replace(/[^\w.-]/g, '_');
}

/** Runs that move the job's checkpoint: neither an explicit window nor the reconciliation sweep. */
export function isScheduled(request: ExportRequest): boolean {
  return !explicitWindow(request) && request.reconcile !== true;
}

export function explicitWindow(request: ExportRequest): boolean {
  return present(request.beginTime) || present(request.endTime);
}

export function windowOf(
  request: ExportRequest,
  checkpointEnd: number | undefined,
  nowSeconds: number,
  settings: WindowSettings,
): Window {
  if (explicitWindow(request)) return parseWindow(request, nowSeconds, settings.initialLookbackSeconds);
  if (request.reconcile === true) return { beginTime: Math.max(nowSeconds - (settings.reconcileSeconds ?? DEFAULT_RECONCILE_SECONDS), oldestDefaultBegin(nowSeconds)), endTime: nowSeconds };
  return scheduledWindow(checkpointEnd, nowSeconds, settings);
}

export async function resolveNumbers(
  request: ExportRequest,
  defaults: NumberDefaults,
  store: ObjectStore,
  manifestMaxBytes: number,
): Promise<ResolvedNumbers> {
  const fromEvent = present(request.phoneNumbers) || present(request.manifest);
  const list = fromEvent ? request.phoneNumbers : defaults.phoneNumbers;
  const manifest = fromEvent ? request.manifest : defaults.manifest;
  const values: Array<{ line: number; value: unknown }> = [];
  if (present(list)) {
    if (!Array.isArray(list) || list.length > MAX_EVENT_NUMBERS) {
      throw new InvalidInput(`phoneNumbers must be an array of at most ${MAX_EVENT_NUMBERS} E.164 numbers (use a manifest for more)`, {
        field: 'phoneNumbers',
      });
    }
    list.forEach((value, index) => values.push({ line: index + 1, value }));
  }
  const fromList = collect(values);
  if (!present(manifest)) {
    if (fromList.numbers.length === 0 && fromList.problemCount === 0) {
      throw new InvalidInput('no phone numbers: give phoneNumbers or manifest, or configure EXPORT_PHONE_NUMBERS / EXPORT_MANIFEST', {
        field: 'phoneNumbers',
      });
    }
    return fromList;
  }
  const fromManifest = parseManifest(await readManifest(manifest, store, manifestMaxBytes));
  const numbers = [...new Set([...fromList.numbers, ...fromManifest.numbers])].sort();
  return {
    numbers,
    problems: [...fromList.problems, ...fromManifest.problems],
    problemCount: fromList.problemCount + fromManifest.problemCount,
    duplicates: fromList.numbers.length + fromManifest.numbers.length - numbers.length + fromList.duplicates + fromManifest.duplicates,
  };
}

async function readManifest(url: unknown, store: ObjectStore, maxBytes: number): Promise<string> {
  let location: { bucket: string; key: string };
  try {
    location = parseS3Url(url);
  } catch (error) {
    throw new InvalidInput((error as Error).message, { field: 'manifest' });
  }
  let text: string | undefined;
  try {
    text = await readText(store, location.bucket, location.key, maxBytes);
  } catch (error) {
    if (error instanceof RangeError) throw new InvalidInput(`manifest is larger than ${maxBytes} bytes`, { field: 'manifest' });
    throw error;
  }
  if (text === undefined) throw new InvalidInput(`manifest s3://${location.bucket}/${location.key} does not exist`, { field: 'manifest' });
  return text;
}
