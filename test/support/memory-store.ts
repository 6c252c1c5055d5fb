import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { ObjectStore } from '#lib/export/store.ts';

export interface StoredObject {
  body: Buffer;
  contentType?: string;
  contentEncoding?: string;
}

export interface MemoryStore extends ObjectStore {
  /** `bucket/key` → object, as last written. */
  objects: Map<string, StoredObject>;
  writes: string[];
  deletes: string[];
  /** Keys of `bucket` starting with `prefix`, sorted. */
  keys(bucket: string, prefix?: string): string[];
  get(bucket: string, key: string): Buffer | undefined;
  put(bucket: string, key: string, body: string | Buffer): void;
  json<T = unknown>(bucket: string, key: string): T | undefined;
  /** The JSON lines of a gzip object. */
  lines<T = unknown>(bucket: string, key: string): T[];
}

/**
 * S3 in memory, with S3's visible behaviour for the export: a written object replaces the old one only
 * once its body is complete (a failing stream leaves the old object in place), a missing key reads as
 * undefined, and deleting a missing key is fine.
 */
export function memoryStore(): MemoryStore {
  const objects = new Map<string, StoredObject>();
  const id = (bucket: string, key: string): string => `${bucket}/${key}`;
  const store: MemoryStore = {
    objects,
    writes: [],
    deletes: [],
    async read(bucket, key) {
      const object = objects.get(id(bucket, key));
      // A fresh copy per read, as a GET gives: nobody can alter the stored bytes through it.
      return object ? Readable.from([Buffer.from(object.body)]) : undefined;
    },
    async write(bucket, key, body, options = {}) {
      let bytes: Buffer;
      if (typeof body === 'string') bytes = Buffer.from(body);
      else {
        const chunks: Buffer[] = [];
        for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
        bytes = Buffer.concat(chunks);
      }
      objects.set(id(bucket, key), { body: bytes, contentType: options.contentType, contentEncoding: options.contentEncoding });
      store.writes.push(key);
    },
    async delete(bucket, key) {
      objects.delete(id(bucket, key));
      store.deletes.push(key);
    },
    keys(bucket, prefix = '') {
      const start = id(bucket, prefix);
      return [...objects.keys()]
        .filter((k) => k.startsWith(start))
        .map((k) => k.slice(bucket.length + 1))
        .sort();
    },
    get(bucket, key) {
      return objects.get(id(bucket, key))?.body;
    },
    put(bucket, key, body) {
      objects.set(id(bucket, key), { body: Buffer.from(body) });
    },
    json<T>(bucket: string, key: string): T | undefined {
      const body = objects.get(id(bucket, key))?.body;
      return body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as T);
    },
    lines<T>(bucket: string, key: string): T[] {
      const body = objects.get(id(bucket, key))?.body;
      if (body === undefined) return [];
      return gunzipSync(body)
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as T);
    },
  };
  return store;
}
