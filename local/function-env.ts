import type { LocalS3 } from './s3.ts';
import type { Twin } from './twin/twin.ts';

/** The environment that points the functions, the CLI or a test at a local twin and S3 server. */
export function localEnv(parts: { twin?: Twin; s3?: LocalS3 }): Record<string, string> {
  const { twin, s3 } = parts;
  return {
    ...(twin && {
      TENCENT_SMS_ENDPOINT: twin.url,
      TENCENTCLOUD_SECRET_ID: twin.credentials.secretId,
      TENCENTCLOUD_SECRET_KEY: twin.credentials.secretKey,
      SMS_SDK_APP_ID: twin.sdkAppId,
    }),
    ...(s3 && {
      EXPORT_BUCKET: s3.bucket,
      AWS_ENDPOINT_URL_S3: s3.url,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
    }),
  };
}
