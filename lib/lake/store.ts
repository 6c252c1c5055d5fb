import type { Readable } from 'node:stream';

/** An object as read: its body and the ETag a conditional write must name to replace exactly it. */
export interface StoredObject {
  body: Readable;
  etag: string;
}

/**
 * The precondition of a write: replace exactly the version read (`ifMatch`), or create only
 * (`ifNoneMatch: '*'`). S3 evaluates it atomically, so two writers never both win.
 */
export type WriteCondition = { ifMatch: string } | { ifNoneMatch: '*' } | Record<string, never>;

export interface WriteOptions {
  contentType?: string;
  contentEncoding?: string;
  condition?: WriteCondition;
  /** Aborts the upload: nothing is stored unless it completed first. */
  signal?: AbortSignal;
}

/** Where the export keeps its objects: S3 in production and locally, memory in unit tests. */
export interface ObjectStore {
  /** The object's body and ETag, or undefined when it does not exist. */
  read(bucket: string, key: string): Promise<StoredObject | undefined>;
  /**
   * Streams `body` to the object; it replaces the old one only once complete, and only if the
   * condition holds (else WriteConflict). Answers the new ETag.
   */
  write(bucket: string, key: string, body: Readable | string, options?: WriteOptions): Promise<{ etag: string }>;
  delete(bucket: string, key: string): Promise<void>;
}

/** A store that can also list keys (the inbox drain): S3 and the memory store of the tests. */
export interface ListingStore extends ObjectStore {
  /** The keys under `prefix`, in S3's (lexicographic) order, at most `limit` of them (all when unset). */
  list(bucket: string, prefix: string, limit?: number): Promise<string[]>;
}

/** Another writer changed the object since it was read (S3 412 PreconditionFailed, 409, or 404 on If-Match). */
export class WriteConflict extends Error {
  override readonly name = 'WriteConflict';
  readonly key: string;
  constructor(bucket: string, key: string) {
    super(`s3://${bucket}/${key} changed while it was being rewritten`);
    this.key = key;
  }
}

export function conditionFor(etag: string | undefined): WriteCondition {
  return etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag };
}

export async function readBytes(stream: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      stream.destroy();
      throw new RangeError(`${what} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function readText(
  store: ObjectStore,
  bucket: string,
  key: string,
  maxBytes: number,
): Promise<string | undefined> {
  const object = await store.read(bucket, key);
  if (!object) return undefined;
  return (await readBytes(object.body, maxBytes, `s3://${bucket}/${key}`)).toString('utf8');
}

/** State objects stay small: counts and capped samples, never whole lists of numbers. */
export const STATE_MAX_BYTES = 16 * 1024 * 1024;

export interface Versioned<T> {
  value: T;
  etag: string;
}

export async function readJson<T>(store: ObjectStore, bucket: string, key: string): Promise<Versioned<T> | undefined> {
  const object = await store.read(bucket, key);
  if (!object) return undefined;
  const text = (await readBytes(object.body, STATE_MAX_BYTES, `s3://${bucket}/${key}`)).toString('utf8');
  return { value: JSON.parse(text) as T, etag: object.etag };
}

export async function writeJson(
  store: ObjectStore,
  bucket: string,
  key: string,
  value: unknown,
  condition: WriteCondition = {},
): Promise<string> {
  const { etag } = await store.write(bucket, key, `${JSON.stringify(value)}\n`, {
    contentType: 'application/json',
    condition,
  });
  return etag;
}

export interface ConflictRetry {
  attempts: number;
  /** Longest jittered pause between attempts, doubled each time from `baseDelayMs`. */
  baseDelayMs: number;
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
}

export const CONFLICT_RETRY: ConflictRetry = { attempts: 10, baseDelayMs: 25 };

/** Runs `attempt` again while another writer wins the race (bounded, with full jitter). */
export async function withConflictRetry<T>(
  attempt: () => Promise<T>,
  policy: ConflictRetry = CONFLICT_RETRY,
): Promise<T> {
  for (let n = 1; ; n += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof WriteConflict) || n >= policy.attempts) throw error;
      const pause = (policy.random ?? Math.random)() * policy.baseDelayMs * 2 ** (n - 1);
      await (policy.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))))(pause);
    }
  }
}

/**
 * Read, change, write on condition of the version read; another writer in between means read again
 * and redo the change. `change` answers undefined to write nothing. Answers the value the object holds after.
 */
export function updateJson<T>(
  store: ObjectStore,
  bucket: string,
  key: string,
  change: (current: T | undefined) => T | undefined,
  policy?: ConflictRetry,
): Promise<T | undefined> {
  return withConflictRetry(async () => {
    const current = await readJson<T>(store, bucket, key);
    const next = change(current?.value);
    if (next === undefined) return current?.value;
    await writeJson(store, bucket, key, next, conditionFor(current?.etag));
    return next;
  }, policy);
}
