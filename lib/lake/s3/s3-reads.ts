import type { Readable } from 'node:stream';
import type { GetObjectCommand as GetObject, S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../store.ts';
import { isNoSuchKey, s3ClientConfig, type S3StoreOptions } from './client-config.ts';

/**
 * The read side of the ObjectStore port over S3, for the lookup: GetObject only, which is all its role
 * may do. Not s3Store: its upload code (lib-storage) would more than double the lookup's bundle. The
 * SDK loads on the first read, as the Tencent secret's client does, so a lookup inside Tencent's 7 days
 * never loads it.
 */
export function s3Reads(options: S3StoreOptions): Pick<ObjectStore, 'read'> {
  let loading: Promise<{ client: S3Client; GetObjectCommand: typeof GetObject }> | undefined;
  const load = async () => {
    const { GetObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
    return { client: new S3Client(s3ClientConfig(options)), GetObjectCommand };
  };
  return {
    async read(bucket, key) {
      loading ??= load().catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
      const { client, GetObjectCommand } = await loading;
      try {
        const { Body, ETag } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: Body as Readable, etag: ETag ?? '' };
      } catch (error) {
        if (isNoSuchKey(error)) return undefined;
        throw error;
      }
    },
  };
}
