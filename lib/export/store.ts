import type { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client, type S3ClientConfig, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/** Where the export keeps its objects: S3 in production and locally (s3rver), memory in unit tests. */
export interface ObjectStore {
  /** The object's body as a stream, or undefined when it does not exist. */
  read(bucket: string, key: string): Promise<Readable | undefined>;
  /** Streams `body` to the object; it replaces the old one only once complete. */
  write(bucket: string, key: string, body: Readable | string, options?: { contentType?: string; contentEncoding?: string }): Promise<void>;
  delete(bucket: string, key: string): Promise<void>;
}

export interface S3StoreOptions {
  /** A local S3 server (AWS_ENDPOINT_URL_S3): path-style addressing, checksums only where required. */
  local: boolean;
}

export function s3Store(options: S3StoreOptions, client = new S3Client(s3ClientConfig(options))): ObjectStore {
  return {
    async read(bucket, key) {
      try {
        const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Body as Readable;
      } catch (error) {
        if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async write(bucket, key, body, { contentType = 'application/json', contentEncoding } = {}) {
      await new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType, ContentEncoding: contentEncoding },
        queueSize: 2,
        partSize: 5 * 1024 * 1024,
      }).done();
    },
    async delete(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}

export function s3ClientConfig({ local }: S3StoreOptions): S3ClientConfig {
  return local ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {};
}

export async function readText(store: ObjectStore, bucket: string, key: string, maxBytes: number): Promise<string | undefined> {
  const stream = await store.read(bucket, key);
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      stream.destroy();
      throw new RangeError(`s3://${bucket}/${key} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJson<T>(store: ObjectStore, bucket: string, key: string): Promise<T | undefined> {
  const text = await readText(store, bucket, key, 16 * 1024 * 1024);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

export function writeJson(store: ObjectStore, bucket: string, key: string, value: unknown): Promise<void> {
  return store.write(bucket, key, `${JSON.stringify(value, null, 2)}\n`);
}
