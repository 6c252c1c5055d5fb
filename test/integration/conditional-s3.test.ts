/**
 * The local S3 enforces S3's conditional writes (local/conditional-s3.ts in front of s3rver), driven
 * with the real AWS SDK v3: PutObject, CopyObject and multipart completion with `If-Match` /
 * `If-None-Match`, racing writers, and a read-modify-write counter that keeps every increment where
 * plain s3rver (`conditional: false`) loses them, and reads that never see a half-written object.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConditionalS3 } from '../../local/conditional-s3.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3.ts';

const MiB = 1024 * 1024;

let s3: LocalS3;
let plain: LocalS3;
let client: S3Client;
let plainClient: S3Client;

beforeAll(async () => {
  [s3, plain] = await Promise.all([
    startLocalS3({ bucket: 'conditional-test' }),
    startLocalS3({ bucket: 'plain-test', conditional: false }),
  ]);
  client = clientFor(s3);
  plainClient = clientFor(plain);
});

afterAll(async () => {
  client?.destroy();
  plainClient?.destroy();
  await Promise.all([s3?.close(), plain?.close()]);
});

function clientFor(local: LocalS3): S3Client {
  return new S3Client({
    endpoint: local.url,
    region: 'us-east-1',
    credentials: local.credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A retried write would blur what the server answered the first time.
    maxAttempts: 1,
  });
}

function newKey(name: string): string {
  return `conditional/${name}-${randomUUID()}.json`;
}

async function put(key: string, body: string | Buffer, conditions: { IfMatch?: string; IfNoneMatch?: string } = {}) {
  return client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body, ...conditions }));
}

async function read(key: string): Promise<{ body: string; etag: string | undefined }> {
  const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return { body: await object.Body!.transformToString(), etag: object.ETag };
}

/** The S3 error a request ended with; fails the test if it succeeded. */
async function failure(request: Promise<unknown>): Promise<S3ServiceException & { Condition?: string }> {
  try {
    await request;
  } catch (error) {
    if (error instanceof S3ServiceException) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

function isPreconditionFailed(error: unknown): boolean {
  return (
    error instanceof S3ServiceException && error.name === 'PreconditionFailed' && error.$metadata.httpStatusCode === 412
  );
}

describe('PutObject with If-None-Match: *', () => {
  it('creates the object once, then answers 412 PreconditionFailed and leaves it alone', async () => {
    const key = newKey('create-once');
    const created = await put(key, 'first', { IfNoneMatch: '*' });
    expect(created.ETag).toMatch(/^"[0-9a-f]{32}"$/);

    const error = await failure(put(key, 'second', { IfNoneMatch: '*' }));
    expect(error.name).toBe('PreconditionFailed');
    expect(error.$metadata.httpStatusCode).toBe(412);
    expect(error.Condition).toBe('If-None-Match');
    expect(await read(key)).toEqual({ body: 'first', etag: created.ETag });
  });

  it("answers with S3's XML error body", async () => {
    const key = newKey('xml');
    await put(key, 'first');
    // s3rver accepts unsigned requests, so a bare HTTP request shows the exact answer.
    const answer = await fetch(`${s3.url}/${s3.bucket}/${key}`, {
      method: 'PUT',
      body: 'second',
      headers: { 'If-None-Match': '*' },
    });
    expect(answer.status).toBe(412);
    expect(answer.headers.get('content-type')).toBe('application/xml');
    expect(answer.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
    expect(await answer.text()).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>PreconditionFailed<\/Code><Message>At least one of the pre-conditions you specified did not hold<\/Message><Condition>If-None-Match<\/Condition><RequestId>[0-9A-F]{16}<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/,
    );
  });

  it('refuses a large body before it is uploaded (Expect: 100-continue)', async () => {
    const key = newKey('large');
    await put(key, 'small');
    // Past 2 MB the SDK asks `Expect: 100-continue`, so the refusal comes before the body.
    const error = await failure(put(key, Buffer.alloc(3 * MiB, 1), { IfNoneMatch: '*' }));
    expect(isPreconditionFailed(error)).toBe(true);
    expect((await read(key)).body).toBe('small');
  });

  it('answers 501 NotImplemented for an ETag in If-None-Match, as S3 does', async () => {
    const key = newKey('none-match-etag');
    const { ETag } = await put(key, 'first');
    const error = await failure(put(key, 'second', { IfNoneMatch: ETag }));
    expect(error.name).toBe('NotImplemented');
    expect(error.$metadata.httpStatusCode).toBe(501);
    expect((await read(key)).body).toBe('first');
  });

  it('works for keys that need URL encoding', async () => {
    const key = `conditional/dir with space/ü+plus&${randomUUID()}.json`;
    await put(key, 'first', { IfNoneMatch: '*' });
    expect(isPreconditionFailed(await failure(put(key, 'second', { IfNoneMatch: '*' })))).toBe(true);
    expect((await read(key)).body).toBe('first');
  });
});

describe('PutObject with If-Match', () => {
  it('replaces the object when the ETag is current and returns the new ETag', async () => {
    const key = newKey('match');
    const first = await put(key, 'first');
    const second = await put(key, 'second', { IfMatch: first.ETag });
    expect(second.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(second.ETag).not.toBe(first.ETag);
    expect(await read(key)).toEqual({ body: 'second', etag: second.ETag });
    // S3 compares ETags with or without their quotes.
    const third = await put(key, 'third', { IfMatch: second.ETag!.replaceAll('"', '') });
    expect(await read(key)).toEqual({ body: 'third', etag: third.ETag });
  });

  it('answers 412 PreconditionFailed for a stale ETag and leaves the object alone', async () => {
    const key = newKey('stale');
    const first = await put(key, 'first');
    const second = await put(key, 'second', { IfMatch: first.ETag });

    const error = await failure(put(key, 'late', { IfMatch: first.ETag }));
    expect(error.name).toBe('PreconditionFailed');
    expect(error.$metadata.httpStatusCode).toBe(412);
    expect(error.Condition).toBe('If-Match');
    expect(await read(key)).toEqual({ body: 'second', etag: second.ETag });
  });

  it('answers 404 NoSuchKey when there is no object, and creates none', async () => {
    const key = newKey('missing');
    const error = await failure(put(key, 'first', { IfMatch: '"0123456789abcdef0123456789abcdef"' }));
    expect(error.name).toBe('NoSuchKey');
    expect(error.$metadata.httpStatusCode).toBe(404);
    const head = await failure(client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key })));
    expect(head.$metadata.httpStatusCode).toBe(404);
  });

  it('answers NoSuchBucket for a bucket that does not exist, as any write would', async () => {
    const error = await failure(
      client.send(
        new PutObjectCommand({
          Bucket: 'no-such-bucket',
          Key: 'k',
          Body: 'x',
          IfMatch: '"0123456789abcdef0123456789abcdef"',
        }),
      ),
    );
    expect(error.name).toBe('NoSuchBucket');
  });
});

describe('the bucket check behind a create', () => {
  // s3rver answers a HEAD of the bucket by listing every object in it: a create per outbox entry made
  // that a full listing per write, and the local S3 the slowest part of a benchmark.
  it('asks s3rver for the bucket without listing it', async () => {
    const seen: string[] = [];
    const upstream = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const object = req.url?.startsWith('/bucket/');
      res.writeHead(req.method === 'HEAD' && object ? 404 : 200, { etag: '"e"' }).end();
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const proxy = await startConditionalS3({
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    });
    const local = clientFor({ ...s3, url: proxy.url });
    try {
      await local.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'new.json', Body: 'x', IfNoneMatch: '*' }));
      expect(seen.map((line) => line.replace(/\?x-id=PutObject$/, ''))).toEqual([
        'HEAD /bucket/new.json',
        'HEAD /bucket?location',
        'PUT /bucket/new.json',
      ]);
    } finally {
      local.destroy();
      await proxy.close();
      upstream.close();
    }
  });
});

describe('CopyObject with conditions on the destination', () => {
  it('refuses to overwrite with If-None-Match: * and copies with the current If-Match', async () => {
    const source = newKey('copy-source');
    const target = newKey('copy-target');
    await put(source, 'source');
    const existing = await put(target, 'target');
    const copy = (conditions: { IfMatch?: string; IfNoneMatch?: string }) =>
      client.send(
        new CopyObjectCommand({ Bucket: s3.bucket, Key: target, CopySource: `${s3.bucket}/${source}`, ...conditions }),
      );

    expect(isPreconditionFailed(await failure(copy({ IfNoneMatch: '*' })))).toBe(true);
    expect((await read(target)).body).toBe('target');
    await copy({ IfMatch: existing.ETag });
    expect((await read(target)).body).toBe('source');
  });
});

describe('multipart upload (lib-storage Upload), conditions evaluated at completion', () => {
  const body = Buffer.alloc(5 * MiB + 123_456, 7);
  const upload = (key: string, conditions: { IfMatch?: string; IfNoneMatch?: string }) =>
    new Upload({
      client,
      params: { Bucket: s3.bucket, Key: key, Body: body, ...conditions },
      partSize: 5 * MiB,
      queueSize: 2,
    }).done();

  it('answers 412 for a stale If-Match and leaves the object alone', async () => {
    const key = newKey('multipart-stale');
    const first = await put(key, 'first');
    const second = await put(key, 'second', { IfMatch: first.ETag });

    const error = await failure(upload(key, { IfMatch: first.ETag }));
    expect(isPreconditionFailed(error)).toBe(true);
    expect(error.Condition).toBe('If-Match');
    expect(await read(key)).toEqual({ body: 'second', etag: second.ETag });
  });

  it('completes with the current If-Match', async () => {
    const key = newKey('multipart-match');
    const first = await put(key, 'first');
    const done = await upload(key, { IfMatch: first.ETag });
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}/);
    expect(done.ETag).not.toBe(first.ETag);
    const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(object.ETag).toBe(done.ETag);
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  it('answers 412 for If-None-Match: * on an existing key, and creates a new key with it', async () => {
    const key = newKey('multipart-none-match');
    await put(key, 'first');
    expect(isPreconditionFailed(await failure(upload(key, { IfNoneMatch: '*' })))).toBe(true);
    expect((await read(key)).body).toBe('first');

    const fresh = newKey('multipart-fresh');
    await upload(fresh, { IfNoneMatch: '*' });
    expect((await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: fresh }))).ContentLength).toBe(
      body.length,
    );
  });
});

describe('racing writers', () => {
  it('lets exactly one of 20 concurrent PutObject with the same If-Match win', async () => {
    const key = newKey('race-match');
    const { ETag } = await put(key, 'start');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => put(key, `writer ${i}`, { IfMatch: ETag })),
    );

    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    const losers = results.filter((r) => r.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    expect(losers.every((r) => isPreconditionFailed(r.reason))).toBe(true);
    expect((await read(key)).body).toBe(`writer ${winners[0]}`);
  });

  it('lets exactly one of 20 concurrent creates with If-None-Match: * win', async () => {
    const key = newKey('race-create');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => put(key, `writer ${i}`, { IfNoneMatch: '*' })),
    );

    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => isPreconditionFailed(r.reason))).toBe(true);
    expect((await read(key)).body).toBe(`writer ${winners[0]}`);
  });

  it('never lets a read see a partly written object', async () => {
    // s3rver rewrites the file in place: without the proxy, these reads get cut-off bodies or hang.
    const key = newKey('torn');
    const bodies = [Buffer.alloc(300_000, 'a'), Buffer.alloc(40_000, 'b')];
    const etags = bodies.map((body) => `"${createHash('md5').update(body).digest('hex')}"`);
    await put(key, bodies[0]!);
    let writing = true;
    const writer = (async () => {
      for (let i = 1; i <= 30; i++) await put(key, bodies[i % 2]!);
      writing = false;
    })();
    const seen: string[] = [];
    const reader = async () => {
      while (writing) {
        const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
        const body = Buffer.from(await object.Body!.transformToByteArray());
        const which = bodies.findIndex((b) => b.equals(body));
        expect(which).toBeGreaterThanOrEqual(0);
        expect(object.ETag).toBe(etags[which]);
        seen.push(object.ETag!);
      }
    };
    await Promise.all([writer, reader(), reader(), reader()]);
    expect(seen.length).toBeGreaterThan(10);
  });
});

describe('listings beside writes', () => {
  // s3rver reads every listed object's metadata, and wrote it in place: a listing beside a write
  // parsed half a file and answered 500 InternalError. S3 lists whatever is whole.
  it('never fail while the objects they list are being rewritten', async () => {
    const prefix = `listing-${randomUUID()}/`;
    const keys = Array.from({ length: 8 }, (_, i) => `${prefix}k${i}`);
    const metadata = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field${i}`, 'v'.repeat(200)]));
    const write = (key: string, round: number) =>
      client.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: key,
          Body: `${round}`,
          ContentType: 'application/json',
          Metadata: metadata,
        }),
      );
    await Promise.all(keys.map((key) => write(key, 0)));
    const failures: unknown[] = [];
    const record = (promise: Promise<unknown>) => promise.catch((error: unknown) => void failures.push(error));
    for (let round = 1; round <= 25; round++) {
      await Promise.all([
        ...keys.map((key) => record(write(key, round))),
        ...Array.from({ length: 4 }, () =>
          record(client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }))),
        ),
      ]);
    }
    expect(failures).toEqual([]);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual([...keys].sort());
  });

  // An object deleted while s3rver walked past it made the walk fail (ENOENT on its metadata, a 500
  // InternalError): a sweep of the outbox beside writers deleting their entries. S3 lists either way.
  it('never fail while the objects they list are being deleted', async () => {
    const prefix = `deleting-${randomUUID()}/`;
    const failures: unknown[] = [];
    const record = (promise: Promise<unknown>) => promise.catch((error: unknown) => void failures.push(error));
    for (let round = 0; round < 15; round++) {
      const keys = Array.from({ length: 12 }, (_, i) => `${prefix}r${round}-k${i}`);
      await Promise.all(keys.map((key) => put(key, 'x')));
      await Promise.all([
        ...keys.map((key) => record(client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key })))),
        ...Array.from({ length: 4 }, () =>
          record(client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }))),
        ),
      ]);
    }
    expect(failures).toEqual([]);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    expect(listed.Contents ?? []).toEqual([]);
  });
});

describe('read-modify-write counter: 10 workers × 5 increments', () => {
  /** Runs tasks one at a time when asked to, else straight away. */
  function queue(oneAtATime: boolean) {
    let tail: Promise<unknown> = Promise.resolve();
    return <T>(task: () => Promise<T>): Promise<T> => {
      if (!oneAtATime) return task();
      const run = tail.then(task);
      tail = run.catch(() => undefined);
      return run;
    };
  }

  /**
   * Each worker: GET the counter, pause (so that the workers' cycles overlap), PUT it + 1 with
   * If-Match, and start over on 412. Plain s3rver rewrites an object's file in place and fails or
   * serves part of it when requests on one key overlap (the proxy serialises them), so against it
   * the requests go one at a time: the read-modify-write cycles still overlap.
   */
  async function count(
    local: S3Client,
    bucket: string,
    oneAtATime: boolean,
  ): Promise<{ value: number; preconditionFailures: number }> {
    const exclusive = queue(oneAtATime);
    const key = newKey('counter');
    let preconditionFailures = 0;
    const readCounter = () =>
      exclusive(async () => {
        const object = await local.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return {
          value: (JSON.parse(await object.Body!.transformToString()) as { value: number }).value,
          etag: object.ETag,
        };
      });
    const writeCounter = (value: number, conditions: { IfMatch?: string; IfNoneMatch?: string }) =>
      exclusive(() =>
        local.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify({ value }), ...conditions })),
      );

    async function increment(): Promise<void> {
      for (;;) {
        const { value, etag } = await readCounter();
        await sleep(5 + Math.random() * 10);
        try {
          await writeCounter(value + 1, { IfMatch: etag });
          return;
        } catch (error) {
          if (!isPreconditionFailed(error)) throw error;
          preconditionFailures++;
        }
      }
    }

    await writeCounter(0, { IfNoneMatch: '*' });
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = 0; i < 5; i++) await increment();
      }),
    );
    return { value: (await readCounter()).value, preconditionFailures };
  }

  it('keeps every increment with conditional writes', async () => {
    const { value, preconditionFailures } = await count(client, s3.bucket, false);
    expect(value).toBe(50);
    // The workers did collide: 412 told the losers to read again.
    expect(preconditionFailures).toBeGreaterThan(0);
  });

  it('loses increments on plain s3rver, which ignores If-Match', async () => {
    const { value, preconditionFailures } = await count(plainClient, plain.bucket, true);
    expect(preconditionFailures).toBe(0);
    expect(value).toBeLessThan(50);
  });
});

describe('everything else passes through', () => {
  it('serves unconditional PUT, GET, HEAD, LIST and DELETE', async () => {
    const prefix = `conditional/plain-${randomUUID()}/`;
    const first = await put(`${prefix}a.json`, '{"a":1}');
    const overwritten = await put(`${prefix}a.json`, '{"a":2}');
    expect(overwritten.ETag).not.toBe(first.ETag);
    await put(`${prefix}b.json`, '{"b":1}');

    expect(await read(`${prefix}a.json`)).toEqual({ body: '{"a":2}', etag: overwritten.ETag });
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${prefix}a.json` }));
    expect(head.ContentLength).toBe(7);
    expect(head.ETag).toBe(overwritten.ETag);

    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([`${prefix}a.json`, `${prefix}b.json`]);

    await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `${prefix}a.json` }));
    const gone = await failure(client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${prefix}a.json` })));
    expect(gone.$metadata.httpStatusCode).toBe(404);
    // Deleted: If-None-Match: * may create it again.
    await put(`${prefix}a.json`, '{"a":3}', { IfNoneMatch: '*' });
    expect((await read(`${prefix}a.json`)).body).toBe('{"a":3}');
  });

  it('streams a large unconditional multipart upload and reads it back', async () => {
    const key = newKey('large-plain');
    const body = Buffer.alloc(11 * MiB);
    for (let i = 0; i < body.length; i += 4096) body[i] = i % 251;
    await new Upload({ client, params: { Bucket: s3.bucket, Key: key, Body: body }, partSize: 5 * MiB }).done();
    const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  it('says whether it enforces conditions', () => {
    expect(s3.conditional).toBe(true);
    expect(plain.conditional).toBe(false);
  });
});
