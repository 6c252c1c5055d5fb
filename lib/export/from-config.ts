import type { ExportConfig, TencentConfig } from '#lib/config.ts';
import type { ExportSettings } from './run.ts';

export function exportSettings(config: ExportConfig, tencent: TencentConfig): ExportSettings {
  return {
    bucket: config.bucket,
    prefix: config.prefix,
    sdkAppId: tencent.sdkAppId,
    window: { latenessSeconds: config.latenessSeconds, initialLookbackSeconds: config.initialLookbackSeconds },
    concurrency: config.concurrency,
    groupConcurrency: config.groupConcurrency,
    chunkSize: config.chunkSize,
    reserveMs: config.reserveMs,
    manifestMaxBytes: config.manifestMaxBytes,
    defaults: { phoneNumbers: config.phoneNumbers, manifest: config.manifest },
  };
}
