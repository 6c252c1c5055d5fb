import { createHash } from 'node:crypto';
import { present } from '#lib/status/query.ts';
import { explicitWindow, type ExportRequest } from './request.ts';
import type { NumberDefaults } from './types.ts';

/** The job a request belongs to: runs of the same job share a checkpoint and resume each other. */
export function jobIdOf(request: ExportRequest, defaults: NumberDefaults): string {
  const source =
    present(request.phoneNumbers) || present(request.manifest)
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

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
