import { describe, expect, it } from 'vitest';
import { thrownAs } from '../support/thrown.ts';
import { ConfigError, loadExportConfig, loadInboxConfig, loadLakeReadConfig, loadTencentConfig } from '#lib/config.ts';

const TENCENT = { SMS_SDK_APP_ID: '1400000000', TENCENTCLOUD_SECRET_ID: 'id', TENCENTCLOUD_SECRET_KEY: 'key' };
const EXPORT = { ...TENCENT, EXPORT_BUCKET: 'exports' };

function refused(load: () => unknown): ConfigError {
  return thrownAs(ConfigError, load);
}

describe('configuration: numbers are decimal, and whole where a count is meant', () => {
  it.each([
    ['EXPORT_CONCURRENCY', '1.5'],
    ['EXPORT_GROUP_CONCURRENCY', '2.5'],
    ['EXPORT_CHUNK_SIZE', '1.5'],
    ['EXPORT_STUCK_AFTER_RUNS', '2.5'],
    ['EXPORT_MANIFEST_MAX_BYTES', '1000.5'],
    ['EXPORT_RETENTION_DAYS', '7.9'],
    ['TENCENT_TIMEOUT_MS', '100.5'],
    ['TENCENT_TIMEOUT_MS', '0x3e8'],
    ['TENCENT_TIMEOUT_MS', '0b1111101000'],
    ['TENCENT_TIMEOUT_MS', '1e3'],
    ['EXPORT_RESERVE_MS', '+100'],
  ])('%s=%s is refused, naming the variable', (name, value) => {
    const env = { ...EXPORT, [name]: value };
    const load = name.startsWith('TENCENT_')
      ? () => loadTencentConfig(env)
      : name === 'EXPORT_RETENTION_DAYS'
        ? () => loadLakeReadConfig(env)
        : () => loadExportConfig(env);
    expect(refused(load).message).toContain(name);
  });

  it('inbox counts are whole numbers too; a rate may be a fraction', () => {
    expect(refused(() => loadInboxConfig({ EXPORT_BUCKET: 'exports', INBOX_MAX_OBJECTS: '10.5' })).message).toContain(
      'INBOX_MAX_OBJECTS',
    );
    expect(loadTencentConfig({ ...TENCENT, TENCENT_RPS_BUDGET: '2.5' }).rpsBudget).toBe(2.5);
    expect(loadExportConfig({ ...EXPORT, EXPORT_CONCURRENCY: '12' })).toMatchObject({ concurrency: 12 });
    expect(loadTencentConfig({ ...TENCENT, TENCENT_TIMEOUT_MS: '1000' }).timeoutMs).toBe(1000);
  });

  it('AWS_ENDPOINT_URL_S3 must be an http(s) URL', () => {
    expect(refused(() => loadExportConfig({ ...EXPORT, AWS_ENDPOINT_URL_S3: 'not-a-url' })).message).toContain(
      'AWS_ENDPOINT_URL_S3',
    );
    expect(loadExportConfig({ ...EXPORT, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569' })).toMatchObject({
      localS3: true,
    });
  });
});
