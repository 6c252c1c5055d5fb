import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { WriteConflict, type ListingStore, type WriteCondition } from '#lib/lake/store.ts';

export interface StoredObject {
  body: Buffer;
  etag: string;
  contentType?: string;
  contentEncoding?: string;
}

export interface MemoryStore extends ListingStore {
  /** `bucket/key` → object, as last written. */
  objects: Map<string, StoredObject>;
  writes: string[];
  reads: string[];
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
 * once its body is complete (a failing stream leaves the old object in place), and only if its
 * condition holds when it completes (If-Match / If-None-Match, as S3 evaluates them); a missing key
 * reads as undefined, and deleting a missing key is fine.
 */
export function memoryStore(): MemoryStore {
  const objects = new Map<string, StoredObject>();
  const id = (bucket: string, key: string): string => `${bucket}/${key}`;
  const store: MemoryStore = {
    objects,
    writes: [],
    reads: [],
    deletes: [],
    async read(bucket, key) {
      store.reads.push(key);
      const object = objects.get(id(bucket, key));
      // A fresh copy per read, as a GET gives: nobody can alter the stored bytes through it.
      return object ? { body: Readable.from([Buffer.from(object.body)]), etag: object.etag } : undefined;
    },
    async write(bucket, key, body, options = {}) {
      let bytes: Buffer;
      if (typeof body === 'string') bytes = Buffer.from(body);
      else {
        const chunks: Buffer[] = [];
        for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
        bytes = Buffer.concat(chunks);
      }
      if (!holds(objects.get(id(bucket, key)), options.condition ?? {})) throw new WriteConflict(bucket, key);
      const etag = etagOf(bytes);
      objects.set(id(bucket, key), {
        body: bytes,
        etag,
        contentType: options.contentType,
        contentEncoding: options.contentEncoding,
      });
      store.writes.push(key);
      return { etag };
    },
    async delete(bucket, key) {
      objects.delete(id(bucket, key));
      store.deletes.push(key);
    },
    async list(bucket, prefix, limit) {
      return store.keys(bucket, prefix).slice(0, limit);
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
      const bytes = Buffer.from(body);
      objects.set(id(bucket, key), { body: bytes, etag: etagOf(bytes) });
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

export function etagOf(bytes: Buffer): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`;
}

function holds(current: StoredObject | undefined, condition: WriteCondition): boolean {
  if ('ifNoneMatch' in condition) return current === undefined;
  if ('ifMatch' in condition) return current?.etag === condition.ifMatch;
  return true;
}
