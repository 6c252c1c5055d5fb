import type { ExportConfig, TencentConfig } from '#lib/config.ts';
import type { ExportSettings } from './types.ts';

export function exportSettings(config: ExportConfig, tencent: TencentConfig): ExportSettings {
  return {
    bucket: config.bucket,
    prefix: config.prefix,
    sdkAppId: tencent.sdkAppId,
    window: { latenessSeconds: config.latenessSeconds, initialLookbackSeconds: config.initialLookbackSeconds, reconcileSeconds: config.reconcileSeconds },
    concurrency: config.concurrency,
    groupConcurrency: config.groupConcurrency,
    chunkSize: config.chunkSize,
    reserveMs: config.reserveMs,
    manifestMaxBytes: config.manifestMaxBytes,
    stuckAfterRuns: config.stuckAfterRuns,
    defaults: { phoneNumbers: config.phoneNumbers, manifest: config.manifest },
  };
}
