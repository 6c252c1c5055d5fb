import type { ExportConfig, TencentConfig } from '#lib/config.ts';
import type { ExportSettings } from './types.ts';

/**
 * The configuration as a run takes it: the window rule's and the default numbers' fields grouped, the rest as they are.
 */
export function exportSettings(config: ExportConfig, tencent: TencentConfig): ExportSettings {
  const { bucket, prefix, concurrency, groupConcurrency, chunkSize, reserveMs, manifestMaxBytes, stuckAfterRuns } =
    config;
  return {
    bucket,
    prefix,
    sdkAppId: tencent.sdkAppId,
    window: {
      latenessSeconds: config.latenessSeconds,
      initialLookbackSeconds: config.initialLookbackSeconds,
      reconcileSeconds: config.reconcileSeconds,
    },
    concurrency,
    groupConcurrency,
    chunkSize,
    reserveMs,
    manifestMaxBytes,
    stuckAfterRuns,
    defaults: { phoneNumbers: config.phoneNumbers, manifest: config.manifest },
  };
}
