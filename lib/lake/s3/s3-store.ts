import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { WriteConflict, type ListingStore, type WriteCondition } from '../store.ts';
import { isNoSuchKey, s3ClientConfig, type S3StoreOptions } from './client-config.ts';

/**
 * The ObjectStore port over S3: conditional writes go to PutObject or CompleteMultipartUpload as If-Match / If-None-
 * Match.
 */
export function s3Store(options: S3StoreOptions, client = new S3Client(s3ClientConfig(options))): ListingStore {
  return {
    async read(bucket, key) {
      try {
        const { Body, ETag } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: Body as Readable, etag: ETag ?? '' };
      } catch (error) {
        if (error instanceof NoSuchKey || isNoSuchKey(error)) return undefined;
        throw error;
      }
    },
    async write(bucket, key, body, { contentType = 'application/json', contentEncoding, condition = {}, signal } = {}) {
      try {
        const result = await new Upload({
          client,
          params: {
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            ContentEncoding: contentEncoding,
            ...conditionParams(condition),
          },
          queueSize: 2,
          partSize: 5 * 1024 * 1024,
          abortController: abortControllerOf(signal),
        }).done();
        return { etag: result.ETag ?? '' };
      } catch (error) {
        if (isConflict(error, condition)) throw new WriteConflict(bucket, key);
        throw error;
      }
    },
    async delete(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    list: (bucket, prefix, limit) => listKeys(client, bucket, prefix, limit),
  };
}

/**
 * ListObjects (v1), paged by Marker: s3rver's ListObjectsV2 continuation tokens need DES, which
 * OpenSSL 3 refuses, and v1 pages the same way on S3.
 */
async function listKeys(
  client: S3Client,
  bucket: string,
  prefix: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  while (keys.length < limit) {
    const MaxKeys = Math.min(1000, limit - keys.length);
    const page = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker, MaxKeys }));
    for (const { Key } of page.Contents ?? []) if (Key !== undefined && keys.length < limit) keys.push(Key);
    marker = page.NextMarker ?? page.Contents?.at(-1)?.Key;
    if (!page.IsTruncated || marker === undefined) break;
  }
  return keys;
}

/** lib-storage takes a controller, not a signal: one that follows the caller's signal. */
function abortControllerOf(signal: AbortSignal | undefined): AbortController | undefined {
  if (!signal) return undefined;
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  return controller;
}

function conditionParams(condition: WriteCondition): { IfMatch?: string; IfNoneMatch?: string } {
  if ('ifMatch' in condition) return { IfMatch: condition.ifMatch };
  if ('ifNoneMatch' in condition) return { IfNoneMatch: condition.ifNoneMatch };
  return {};
}

/** 412: the condition failed; 409: a conflicting write was in flight; 404 on If-Match: the object went away. */
function isConflict(error: unknown, condition: WriteCondition): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  if (name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409)
    return true;
  return 'ifMatch' in condition && (name === 'NoSuchKey' || status === 404);
}
