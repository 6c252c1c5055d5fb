import type { ReportWindow } from './window.ts';

/**
 * The report's sections, each computed by one SQL file in queries/ — the text of the Athena named query
 * of the same section (resources/athena.yml) and what the CLI runs through DuckDB.
 */
export const SECTIONS = ['totals', 'byDay', 'byCountry', 'topFailures', 'repeatFailures'] as const;
export type Section = (typeof SECTIONS)[number];

/** Each section's file under queries/. */
export const QUERY_FILES: Readonly<Record<Section, string>> = {
  totals: 'totals.sql',
  byDay: 'by-day.sql',
  byCountry: 'by-country.sql',
  topFailures: 'top-failures.sql',
  repeatFailures: 'repeat-failures.sql',
};

/**
 * The execution parameters every query takes, in the order of its `?` markers: the window's edges for
 * the `dt` partitions to read, then for `userreceivetime` itself.
 */
export function queryParameters({ beginTime, endTime }: ReportWindow): number[] {
  return [beginTime, endTime, beginTime, endTime];
}
