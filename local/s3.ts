import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';
import { startConditionalS3, type ConditionalS3 } from './conditional-s3.ts';

export interface LocalS3 {
  url: string;
  port: number;
  bucket: string;
  /** Whether `If-Match` / `If-None-Match` on writes are enforced as S3 does (see conditional-s3.ts). */
  conditional: boolean;
  /** Credentials s3rver accepts; any value works, these are its defaults. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

/**
 * s3rver on loopback with the export bucket created, its files in a temporary folder. By default it
 * sits on an internal port behind the conditional-write proxy, which gets the requested port, so
 * conditional writes behave as on S3; `conditional: false` gives plain s3rver, which ignores them.
 */
export async function startLocalS3(
  options: { port?: number; bucket?: string; conditional?: boolean } = {},
): Promise<LocalS3> {
  const bucket = options.bucket ?? 'sms-status-local';
  const conditional = options.conditional ?? true;
  const directory = await mkdtemp(join(tmpdir(), 'sms-status-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: conditional ? 0 : (options.port ?? 0),
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  writeObjectsBeforeAnswering(server);
  deletesBesideOthers(server);
  const stopS3rver = async () => {
    await server.close();
    await rm(directory, { recursive: true, force: true });
  };
  const address = (await server.run()) as AddressInfo;
  let proxy: ConditionalS3 | undefined;
  try {
    if (conditional)
      proxy = await startConditionalS3({ upstream: `http://127.0.0.1:${address.port}`, port: options.port ?? 0 });
  } catch (error) {
    await stopS3rver();
    throw error;
  }
  const port = proxy?.port ?? address.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    bucket,
    conditional,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    async close() {
      await proxy?.close();
      await stopS3rver();
    },
  };
}

/** The parts of s3rver's (untyped) FilesystemStore that storing an object uses. */
interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: 'object' | 'object.md5' | 'metadata.json'): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: {
    bucket: string;
    key: string;
    content: Buffer | Readable;
    metadata: Record<string, string>;
  }): Promise<{ size: number; md5: string }>;
  listObjects(bucket: string, options: unknown): Promise<unknown>;
  deleteObject(bucket: string, key: string): Promise<void>;
}

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Deletes beside deletes and listings, as S3 takes them. s3rver's DeleteObject removes the object's files,
 * then the folders left empty, reading each: a delete beside another in the same folder found it gone
 * (ENOENT, a 500 InternalError, and again on every retry), though the object was deleted. And its listing
 * walks the bucket's folders reading each object's metadata: an object deleted meanwhile failed the walk.
 * A delete whose clean-up found a folder gone is done; a walk is done again, seeing the deletes done by then.
 */
function deletesBesideOthers(server: S3rver): void {
  const store = (server as unknown as { store: FilesystemStore }).store;
  const remove = store.deleteObject.bind(store);
  store.deleteObject = (bucket, key) =>
    remove(bucket, key).catch((error: unknown) => {
      if (!isMissing(error)) throw error;
    });
  const list = store.listObjects.bind(store);
  store.listObjects = async (bucket, options) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await list(bucket, options);
      } catch (error) {
        if (!isMissing(error) || attempt === 20) throw error;
      }
    }
  };
}

/**
 * s3rver 3.7's `putObject` resolves once the body has gone through its MD5 stream, not once it is in
 * the file: under load a GET right after the PUT's 200 (or the multipart completion's) finds the
 * file empty or cut short. And it writes over the object's file as the body arrives, so a client that
 * dies mid-upload leaves half an object, where S3 keeps the old one whole. This `putObject` writes a
 * temporary file and renames it over the object only once the whole body is in.
 */
function writeObjectsBeforeAnswering(server: S3rver): void {
  const store = (server as unknown as { store: FilesystemStore }).store;
  store.putObject = async ({ bucket, key, content, metadata }) => {
    const path = store.getResourcePath(bucket, key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    const hashed = async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        md5.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    };
    const partial = `${path}.${randomBytes(6).toString('hex')}.partial`;
    try {
      await pipeline(Buffer.isBuffer(content) ? Readable.from([content]) : content, hashed, createWriteStream(partial));
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    const digest = md5.digest('hex');
    await store.putMetadata(bucket, key, metadata, digest);
    return { size, md5: digest };
  };
  // Listings are not under the proxy's key locks: they read every object's metadata, which s3rver
  // writes in place, so a listing beside a write could parse half a file (a 500 InternalError).
  store.putMetadata = async (bucket, key, metadata, md5) => {
    const kept = Object.entries(metadata).filter(
      ([name]) => ALLOWED_METADATA.has(name) || name.startsWith('x-amz-meta-'),
    );
    if (md5) await replaceFile(store.getResourcePath(bucket, key, 'object.md5'), md5);
    await replaceFile(
      store.getResourcePath(bucket, key, 'metadata.json'),
      JSON.stringify(Object.fromEntries(kept), null, 2),
    );
  };
}

/** S3's stored system metadata, as s3rver keeps it beside the x-amz-meta-* entries. */
const ALLOWED_METADATA = new Set<string>(
  createRequire(import.meta.url)('s3rver/lib/models/object.js').ALLOWED_METADATA,
);

/** Writes a file whole or not at all: a temporary file renamed over it. */
async function replaceFile(path: string, text: string): Promise<void> {
  const partial = `${path}.${randomBytes(6).toString('hex')}.partial`;
  try {
    await writeFile(partial, text);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
