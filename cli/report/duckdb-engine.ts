import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIGINT, DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CorruptObject } from '#lib/export/corrupt.ts';
import type { LakeObjects, ReportEngine } from '#lib/report/engine.ts';
import type { Row } from '#lib/report/row.ts';
import { ATHENA_DIALECT } from './athena-dialect.ts';
import { copyLakeFiles, type LakeFiles } from './lake-files.ts';
import { createLakeTable, NOT_A_RECEIPT } from './lake-table.ts';

export interface DuckDbOptions {
  /** DuckDB's memory_limit: past it, it spills to its temporary directory instead of growing. */
  memoryLimit?: string;
  threads?: number;
  /** Where the copies of the day objects and DuckDB's database go; a new folder under the OS's by default. */
  tmpDir?: string;
}

/**
 * The report's queries run by DuckDB, in-process. DuckDB reads S3 only through an extension it
 * downloads at run time, so the day objects come through the store: copied as stored to a temporary
 * folder, loaded once into an on-disk table, queried, and the folder removed.
 */
export function duckDbEngine(options: DuckDbOptions = {}): ReportEngine {
  return {
    async run(objects, queries, parameters) {
      const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'sms-status-report-'));
      try {
        return await runIn(dir, objects, queries, parameters, options);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

async function runIn(dir: string, objects: LakeObjects, queries: readonly string[], parameters: readonly number[], options: DuckDbOptions): Promise<Row[][]> {
  const lake = await copyLakeFiles(objects, join(dir, 'lake'));
  const instance = await DuckDBInstance.create(join(dir, 'report.duckdb'), {
    memory_limit: options.memoryLimit ?? '256MB',
    threads: String(options.threads ?? 2),
    temp_directory: join(dir, 'spill'),
    // Rows need no order until a query sorts them: loading in parallel without keeping it saves memory.
    preserve_insertion_order: 'false',
  });
  const connection = await instance.connect();
  try {
    for (const macro of ATHENA_DIALECT) await connection.run(macro);
    await load(connection, lake, objects.bucket);
    const results: Row[][] = [];
    for (const sql of queries) results.push(await query(connection, sql, parameters));
    return results;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function load(connection: DuckDBConnection, lake: LakeFiles, bucket: string): Promise<void> {
  try {
    await connection.run(createLakeTable(lake.files));
  } catch (error) {
    throw corruptFile(error, lake, bucket) ?? error;
  }
  const [row] = (await connection.runAndReadAll(NOT_A_RECEIPT)).getRowObjectsJS();
  if (row === undefined) return;
  const key = lake.keyOf.get(String(row.source_file)) ?? String(row.source_file);
  throw new CorruptObject(`s3://${bucket}/${key}`, new Error('a line is not a delivery record (no serialNo or userReceiveTime)'));
}

/** DuckDB names the file a line failed in ("Malformed JSON in file "…""): the object it is a copy of. */
function corruptFile(error: unknown, lake: LakeFiles, bucket: string): CorruptObject | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const file = /in file "([^"]+)"/.exec(message)?.[1];
  const key = file === undefined ? undefined : lake.keyOf.get(file);
  if (key === undefined) return undefined;
  const reason = message.replace(/^[\w ]+Error: /, '').replace(/ in file "[^"]+"/, '').split('\n')[0] ?? message;
  return new CorruptObject(`s3://${bucket}/${key}`, new Error(reason));
}

async function query(connection: DuckDBConnection, sql: string, parameters: readonly number[]): Promise<Row[]> {
  const values = parameters.map((value) => BigInt(value));
  const reader = await connection.runAndReadAll(sql, values, values.map(() => BIGINT));
  return reader.getRowObjectsJS();
}
