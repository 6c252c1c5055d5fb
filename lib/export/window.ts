import { oldestDefaultBegin, parseWindow } from '#lib/status/query.ts';
import { explicitWindow, type ExportRequest } from './request.ts';
import type { Window, WindowSettings } from './types.ts';

export const DEFAULT_RECONCILE_SECONDS = 72 * 3600;

/**
 * A run's window: the request's own, the reconciliation sweep's (the last EXPORT_RECONCILE_SECONDS),
 * or the scheduled one from the job's checkpoint.
 */
export function windowOf(
  request: ExportRequest,
  checkpointEnd: number | undefined,
  nowSeconds: number,
  settings: WindowSettings,
): Window {
  if (explicitWindow(request)) return parseWindow(request, nowSeconds, settings.initialLookbackSeconds);
  if (request.reconcile === true)
    return {
      beginTime: Math.max(
        nowSeconds - (settings.reconcileSeconds ?? DEFAULT_RECONCILE_SECONDS),
        oldestDefaultBegin(nowSeconds),
      ),
      endTime: nowSeconds,
    };
  return scheduledWindow(checkpointEnd, nowSeconds, settings);
}

/** The scheduled window: from the checkpoint less the lateness overlap (or the first look-back) to now. */
export function scheduledWindow(
  checkpointEnd: number | undefined,
  nowSeconds: number,
  settings: WindowSettings,
): Window {
  const wanted =
    checkpointEnd === undefined
      ? nowSeconds - settings.initialLookbackSeconds
      : checkpointEnd - settings.latenessSeconds;
  return { beginTime: Math.min(nowSeconds, Math.max(wanted, oldestDefaultBegin(nowSeconds))), endTime: nowSeconds };
}

/**
 * What of a scheduled job's window aged past Tencent's 7 days before the run began (the export was
 * down that long): from the checkpoint up to the oldest second Tencent still serves. Nothing in it
 * can be pulled any more, so the run reports it as a gap.
 */
export function agedOut(checkpointEnd: number | undefined, nowSeconds: number): Window | undefined {
  const oldest = oldestDefaultBegin(nowSeconds);
  return checkpointEnd !== undefined && checkpointEnd < oldest
    ? { beginTime: checkpointEnd, endTime: oldest - 1 }
    : undefined;
}
