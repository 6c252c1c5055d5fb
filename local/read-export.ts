import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ExportRecord } from '#lib/export/writer.ts';

export interface ExportedObject {
  key: string;
  records: ExportRecord[];
}

/** Every exported object under `prefix/statuses/`, decompressed and parsed (tests and benchmarks). */
export async function readExport(s3: S3Client, bucket: string, prefix: string): Promise<ExportedObject[]> {
  const objects: ExportedObject[] = [];
  let marker: string | undefined;
  // ListObjects (v1) pages by marker: s3rver's v2 continuation tokens need DES, which OpenSSL 3 refuses.
  for (;;) {
    const page = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: `${prefix}/statuses/`, Marker: marker }));
    for (const { Key } of page.Contents ?? []) {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      const text = gunzipSync(Buffer.from(await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())).toString('utf8');
      objects.push({ key: Key as string, records: text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as ExportRecord) });
    }
    if (!page.IsTruncated) return objects;
    marker = page.Contents?.at(-1)?.Key;
  }
}
