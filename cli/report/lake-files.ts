import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import pLimit from 'p-limit';
import { CorruptObject } from '#lib/lake/corrupt.ts';
import type { LakeObjects } from '#lib/report/engine.ts';

/** Objects read at once: each is held whole while it is checked and written (a day object is small). */
const READ_CONCURRENCY = 16;

const gunzipAsync = promisify(gunzip);
/** Output per zlib callback: a day object in one piece, not sixty-four 16 KiB callbacks on the main thread. */
const GUNZIP_CHUNK_BYTES = 1024 * 1024;

const dayOf = (key: string): string | undefined => /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1];

/** The object a copy was made of: the copy's name is the object's place in the listing. */
export function keyOfFile(objects: LakeObjects, file: string): string | undefined {
  const index = /(\d+)\.jsonl\.gz$/.exec(file)?.[1];
  return index === undefined ? undefined : objects.keys[Number(index)];
}

/**
 * Copies each object as stored (gzip) to `dir/dt=<day>/<index>.jsonl.gz`, the layout DuckDB's Hive
 * partitioning reads `dt` from. Each copy is gunzipped once on the way (in zlib's thread pool): DuckDB's
 * gzip reader checks neither the CRC nor the length, so an object cut short at a line's end would be
 * counted as fewer receipts instead of failing. Answers the files written.
 */
export async function copyLakeFiles(objects: LakeObjects, dir: string): Promise<string[]> {
  const days = new Set(objects.keys.map(dayOf));
  await Promise.all([...days].map((day) => mkdir(join(dir, `dt=${day}`), { recursive: true })));
  const limit = pLimit(READ_CONCURRENCY);
  const copied = await Promise.all(objects.keys.map((_, index) => limit(() => copyOne(objects, index, dir))));
  return copied.filter((file): file is string => file !== undefined);
}

async function copyOne(objects: LakeObjects, index: number, dir: string): Promise<string | undefined> {
  const key = objects.keys[index] as string;
  const bytes = await objects.read(key);
  // Gone since it was listed (a lifecycle expiry): it holds nothing now, as for Athena.
  if (bytes === undefined) return undefined;
  try {
    await gunzipAsync(bytes, { chunkSize: GUNZIP_CHUNK_BYTES });
  } catch (error) {
    throw new CorruptObject(`s3://${objects.bucket}/${key}`, error);
  }
  const file = join(dir, `dt=${dayOf(key)}`, `${String(index).padStart(6, '0')}.jsonl.gz`);
  await writeFile(file, bytes);
  return file;
}
