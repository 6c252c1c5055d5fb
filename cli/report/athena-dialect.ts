/**
 * Athena (Trino) functions the report's queries use, as DuckDB macros of the same name and meaning:
 * the one place where the two dialects meet, so every queries/*.sql file runs unchanged on both.
 * Everything else the queries use (count, max, floor, CAST, CASE, BETWEEN, GROUP BY, ORDER BY, LIMIT)
 * means the same in both.
 */
export const ATHENA_DIALECT: readonly string[] = [
  // Trino: unix seconds → timestamp (UTC in Athena). DuckDB has no from_unixtime; make_timestamp takes
  // microseconds and gives a TIMESTAMP without a zone, which strftime formats as UTC.
  'CREATE MACRO from_unixtime(seconds) AS make_timestamp(CAST(seconds AS BIGINT) * 1000000)',
  // Trino's date_format takes MySQL-style specifiers; the queries use %Y, %m and %d, which strftime
  // spells the same.
  'CREATE MACRO date_format(ts, format) AS strftime(ts, format)',
  // Trino's count_if answers 0 over no rows; DuckDB's own answers NULL (an empty window's totals).
  'CREATE MACRO count_if(condition) AS count(*) FILTER (WHERE condition)',
];
