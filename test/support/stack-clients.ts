import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll } from 'vitest';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import type { StackInfo } from './global-stack.ts';

/** SDK clients for the shared stack's Lambda endpoint and S3, destroyed after the file's tests. */
export function stackClients(stack: StackInfo): { lambda: LambdaClient; s3: S3Client } {
  const lambda = new LambdaClient({
    endpoint: stack.lambdaUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const s3 = new S3Client({
    ...s3ClientConfig({ local: true }),
    endpoint: stack.s3Url,
    region: stack.env.AWS_REGION || 'us-east-1',
    credentials: {
      accessKeyId: stack.env.AWS_ACCESS_KEY_ID ?? 'S3RVER',
      secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER',
    },
  });
  afterAll(() => {
    lambda.destroy();
    s3.destroy();
  });
  return { lambda, s3 };
}
