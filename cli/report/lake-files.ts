import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import pLimit from 'p-limit';
import { CorruptObject } from '#lib/export/corrupt.ts';
import { readBytes } from '#lib/export/store.ts';
import type { LakeObjects } from '#lib/report/engine.ts';

/** Objects read at once: each is held whole while it is checked and written (a day object is small). */
const READ_CONCURRENCY = 16;
/** A day object is one group's receipts of one day: far below this, even for a busy deployment. */
const MAX_OBJECT_BYTES = 256 * 1024 * 1024;

const gunzipAsync = promisify(gunzip);

/** The files the objects were written to, and which object each file is (to name it in an error). */
export interface LakeFiles {
  files: string[];
  keyOf: ReadonlyMap<string, string>;
}

/**
 * Copies each object as stored (gzip) to `dir/dt=<day>/<name>`, the layout DuckDB's Hive partitioning
 * reads `dt` from. Each copy is gunzipped once on the way (in zlib's thread pool): DuckDB's gzip reader
 * checks neither the CRC nor the length, so an object cut short at a line's end would be counted as
 * fewer receipts instead of failing.
 */
export async function copyLakeFiles(objects: LakeObjects, dir: string): Promise<LakeFiles> {
  const limit = pLimit(READ_CONCURRENCY);
  const copied = await Promise.all(objects.keys.map((key, i) => limit(() => copyOne(objects, key, dir, i))));
  const pairs = copied.filter((pair): pair is [string, string] => pair !== undefined);
  return { files: pairs.map(([file]) => file), keyOf: new Map(pairs) };
}

async function copyOne(objects: LakeObjects, key: string, dir: string, index: number): Promise<[string, string] | undefined> {
  const body = await objects.open(key);
  // Gone since it was listed (a lifecycle expiry): it holds nothing now, as for Athena.
  if (body === undefined) return undefined;
  const bytes = await readBytes(body, MAX_OBJECT_BYTES, `s3://${objects.bucket}/${key}`);
  try {
    await gunzipAsync(bytes);
  } catch (error) {
    throw new CorruptObject(`s3://${objects.bucket}/${key}`, error);
  }
  const day = /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1];
  if (day === undefined) throw new CorruptObject(`s3://${objects.bucket}/${key}`, new Error('its key has no dt=YYYY-MM-DD folder'));
  const folder = join(dir, `dt=${day}`);
  await mkdir(folder, { recursive: true });
  const file = join(folder, `${String(index).padStart(6, '0')}.jsonl.gz`);
  await writeFile(file, bytes);
  return [file, key];
}
