import type { Row } from './row.ts';

/** The day objects of a report's window, as listed: their keys, and a way to read each. */
export interface LakeObjects {
  bucket: string;
  /** Keys of gzip JSON Lines objects under `statuses/dt=<day>/`, only the days of the window. */
  keys: readonly string[];
  /** The object's bytes as stored (gzip), whole; undefined when it went away after it was listed. */
  read(key: string): Promise<Buffer | undefined>;
}

/**
 * A SQL engine that sees the lake's day objects as the Glue table `delivery_statuses` (lower-case
 * columns, partition `dt`). The CLI's is DuckDB; on AWS, Athena runs the same queries as named queries.
 */
export interface ReportEngine {
  /** Each query's rows, in order; every query is run with `parameters` for its `?` markers. */
  run(objects: LakeObjects, queries: readonly string[], parameters: readonly number[]): Promise<Row[][]>;
}
