import { rm } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { CorruptObject } from '#lib/lake/corrupt.ts';
import type { LakeObjects } from '#lib/report/engine.ts';
import { copyLakeFiles, keyOfFile } from './lake-files.ts';
import { CREATE_LAKE_TABLE, insertFiles, NOT_A_RECEIPT } from './lake-table.ts';

/**
 * Fills `delivery_statuses` with the day objects: all copied first, then one INSERT reading every file
 * (on DuckDB's threads). Inserting batch by batch while the next batch is read was slower: each
 * statement costs DuckDB's JSON reader about as much again as the rows it reads.
 */
export async function loadLake(connection: DuckDBConnection, objects: LakeObjects, dir: string): Promise<void> {
  await connection.run(CREATE_LAKE_TABLE);
  const files = await copyLakeFiles(objects, dir);
  await insert(connection, files, objects);
  await rm(dir, { recursive: true, force: true });
  await checkReceipts(connection, objects);
}

async function insert(connection: DuckDBConnection, files: string[], objects: LakeObjects): Promise<void> {
  if (files.length === 0) return;
  try {
    await connection.run(insertFiles(files));
  } catch (error) {
    throw corruptFile(error, objects) ?? error;
  }
}

/** DuckDB names the file a line failed in ("Malformed JSON in file "…""): the object it is a copy of. */
function corruptFile(error: unknown, objects: LakeObjects): CorruptObject | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const file = /in file "([^"]+)"/.exec(message)?.[1];
  const key = file === undefined ? undefined : keyOfFile(objects, file);
  if (key === undefined) return undefined;
  const reason =
    message
      .replace(/^[\w ]+Error: /, '')
      .replace(/ in file "[^"]+"/, '')
      .split('\n')[0] ?? message;
  return new CorruptObject(`s3://${objects.bucket}/${key}`, new Error(reason));
}

/** A line DuckDB read as a row of NULLs (`null`, `{}`, no serialNo or receive time) is damage too. */
async function checkReceipts(connection: DuckDBConnection, objects: LakeObjects): Promise<void> {
  const [row] = (await connection.runAndReadAll(NOT_A_RECEIPT)).getRowObjectsJS();
  if (row === undefined) return;
  const key = keyOfFile(objects, String(row.source_file)) ?? String(row.source_file);
  throw new CorruptObject(
    `s3://${objects.bucket}/${key}`,
    new Error('a line is not a delivery record (no serialNo or userReceiveTime)'),
  );
}
