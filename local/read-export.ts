import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ExportRecord } from '#lib/lake/line.ts';

export interface ExportedObject {
  key: string;
  records: ExportRecord[];
  /** The object's bytes as stored (gzip). */
  body: Buffer;
}

/** Every key under `prefix` (a plain key prefix, not only an export prefix), sorted. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  // ListObjects (v1) pages by marker: s3rver's v2 continuation tokens need DES, which OpenSSL 3 refuses.
  for (;;) {
    const page = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }));
    keys.push(...(page.Contents ?? []).map((c) => c.Key as string));
    if (!page.IsTruncated) return keys.sort();
    marker = page.Contents?.at(-1)?.Key;
  }
}

/** One object's bytes. */
export async function readObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

/** The JSON lines of a gzip object (an exported object's text ends with a newline: no empty record). */
export function exportedLines(body: Buffer): ExportRecord[] {
  return gunzipSync(body)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ExportRecord);
}

/** Every exported object under `prefix/statuses/`, decompressed and parsed (tests and benchmarks). */
export async function readExport(s3: S3Client, bucket: string, prefix: string): Promise<ExportedObject[]> {
  const objects: ExportedObject[] = [];
  for (const key of await listKeys(s3, bucket, `${prefix}/statuses/`)) {
    const body = await readObject(s3, bucket, key);
    objects.push({ key, records: exportedLines(body), body });
  }
  return objects;
}
