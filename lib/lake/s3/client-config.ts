import type { S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3StoreOptions {
  /** A local S3 server (AWS_ENDPOINT_URL_S3): path-style addressing, checksums only where required. */
  local: boolean;
}

export function s3ClientConfig({ local }: S3StoreOptions): S3ClientConfig {
  return local
    ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
    : {};
}

/** S3's answer for a key that does not exist. */
export function isNoSuchKey(error: unknown): boolean {
  return (error as { name?: string }).name === 'NoSuchKey';
}
