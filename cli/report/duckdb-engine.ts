import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIGINT, DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { LakeObjects, ReportEngine } from '#lib/report/engine.ts';
import type { Row } from '#lib/report/row.ts';
import { ATHENA_DIALECT } from './athena-dialect.ts';
import { loadLake } from './lake-load.ts';

/** DuckDB's share of the report's memory (its JSON reader needs ~100 MB); Node's share is ~150 MB. */
const MEMORY_LIMIT = '160MB';

export interface DuckDbOptions {
  /** DuckDB's memory_limit: past it, it spills to its temporary directory instead of growing. */
  memoryLimit?: string;
  /** Two by default: each JSON reader thread holds buffers of its own, and the reads from S3 set the pace. */
  threads?: number;
  /** Where the copies of the day objects and DuckDB's database go; a new folder under the OS's by default. */
  tmpDir?: string;
}

/**
 * The report's queries run by DuckDB, in-process. DuckDB reads S3 only through an extension it
 * downloads at run time, so the day objects come through the store: copied as stored to a temporary
 * folder, loaded into one table, queried, and the folder removed.
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

async function runIn(
  dir: string,
  objects: LakeObjects,
  queries: readonly string[],
  parameters: readonly number[],
  options: DuckDbOptions,
): Promise<Row[][]> {
  // A database file rather than ':memory:': past memory_limit the table's blocks live in the file, and
  // the process's memory stays flat (an in-memory table spilling to temp_directory still grew it).
  const instance = await DuckDBInstance.create(join(dir, 'report.duckdb'), {
    memory_limit: options.memoryLimit ?? MEMORY_LIMIT,
    threads: String(options.threads ?? 2),
    temp_directory: join(dir, 'spill'),
    // Rows need no order until a query sorts them: loading in parallel without keeping it saves memory.
    preserve_insertion_order: 'false',
  });
  const connection = await instance.connect();
  try {
    for (const macro of ATHENA_DIALECT) await connection.run(macro);
    await loadLake(connection, objects, join(dir, 'lake'));
    const results: Row[][] = [];
    for (const sql of queries) results.push(await query(connection, sql, parameters));
    // Nothing is kept: dropped first, the table costs closing no checkpoint (up to a second of CPU).
    await connection.run('DROP TABLE delivery_statuses');
    return results;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function query(connection: DuckDBConnection, sql: string, parameters: readonly number[]): Promise<Row[]> {
  const values = parameters.map((value) => BigInt(value));
  const reader = await connection.runAndReadAll(
    sql,
    values,
    values.map(() => BIGINT),
  );
  return reader.getRowObjectsJS();
}
