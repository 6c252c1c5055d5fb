import { parse } from 'csv-parse/sync';
import { parseS3Url } from '#lib/config.ts';
import { parsePhoneNumber } from '#lib/phone-number.ts';
import { InvalidInput } from '#lib/errors.ts';
import { readText, type ObjectStore } from '#lib/lake/store.ts';
import type { ManifestProblem } from './types.ts';

export interface ParsedNumbers {
  numbers: string[];
  problems: ManifestProblem[];
  duplicates: number;
}

/** Problems beyond this many are counted, not listed, so a broken manifest cannot bloat a summary. */
export const MAX_LISTED_PROBLEMS = 100;

/**
 * One E.164 number per line, or CSV with a `phoneNumber` column (parsed by csv-parse, so a quoted cell
 * may hold commas, quotes and newlines). Blank lines and `#` comments are skipped; a malformed line is
 * reported with its number and the run goes on without it.
 */
export function parseManifest(text: string): ParsedNumbers & { problemCount: number } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = lines.findIndex((line) => !skipped(line));
  if (header < 0 || !hasPhoneNumberColumn(lines[header] as string)) return collect(plainValues(lines));
  const { values, unreadable } = csvValues(lines.slice(header).join('\n'), header);
  const parsed = collect(values);
  const problems = [...parsed.problems, ...unreadable].sort((x, y) => x.line - y.line).slice(0, MAX_LISTED_PROBLEMS);
  return { ...parsed, problems, problemCount: parsed.problemCount + unreadable.length };
}

/** A blank line, or a `#` comment. */
function skipped(line: string): boolean {
  return line.trim() === '' || line.trimStart().startsWith('#');
}

/** A CSV header naming a phoneNumber column. */
function hasPhoneNumberColumn(header: string): boolean {
  try {
    const [cells = []] = parse(header, { relax_quotes: true, relax_column_count: true }) as string[][];
    return cells.some((cell) => cell.trim().toLowerCase() === 'phonenumber');
  } catch {
    return false;
  }
}

function plainValues(lines: string[]): Array<{ line: number; value: string }> {
  return lines.flatMap((line, index) => (skipped(line) ? [] : [{ line: index + 1, value: line.trim() }]));
}

/**
 * The `phoneNumber` cell of each CSV record from the header on (`offset` lines before it), with the line
 * it ends on; records csv-parse cannot read are problems.
 */
function csvValues(
  csv: string,
  offset: number,
): { values: Array<{ line: number; value: string }>; unreadable: ManifestProblem[] } {
  const unreadable: ManifestProblem[] = [];
  const records = parse(csv, {
    columns: (header: string[]) =>
      header.map((cell) => (cell.trim().toLowerCase() === 'phonenumber' ? 'phoneNumber' : cell)),
    relax_column_count: true,
    raw: true,
    skip_records_with_error: true,
    info: true,
    // A blank line or a `#` comment as the text has it (an empty quoted cell is no blank line).
    on_record: (record: { raw: string }) => (skipped(record.raw) ? null : record),
    on_skip: (error) =>
      void unreadable.push({
        line: offset + Number((error as { lines?: number } | undefined)?.lines ?? 1),
        reason: `not a CSV record: ${error?.message ?? 'unreadable'}`,
      }),
  }) as unknown as Array<{ record: Record<string, string | undefined>; info: { lines: number } }>;
  const values = records.map(({ record, info }) => ({
    line: offset + info.lines,
    value: (record.phoneNumber ?? '').trim(),
  }));
  return { values, unreadable };
}

export function collect(values: Array<{ line: number; value: unknown }>): ParsedNumbers & { problemCount: number } {
  const seen = new Set<string>();
  const problems: ManifestProblem[] = [];
  let problemCount = 0;
  let duplicates = 0;
  for (const { line, value } of values) {
    try {
      const number = parsePhoneNumber(value, 'phoneNumber');
      if (seen.has(number)) duplicates += 1;
      seen.add(number);
    } catch (error) {
      problemCount += 1;
      if (problems.length < MAX_LISTED_PROBLEMS)
        problems.push({ line, reason: (error as Error).message.replace(/^[\w.]+: /, '') });
    }
  }
  return { numbers: [...seen].sort(), problems, problemCount, duplicates };
}

/** The manifest's text, read from S3; a bad URL, a missing or too large object is InvalidInput on field manifest. */
export async function readManifest(url: unknown, store: ObjectStore, maxBytes: number): Promise<string> {
  let location: { bucket: string; key: string };
  try {
    location = parseS3Url(url);
  } catch (error) {
    throw new InvalidInput((error as Error).message, { field: 'manifest' });
  }
  let text: string | undefined;
  try {
    text = await readText(store, location.bucket, location.key, maxBytes);
  } catch (error) {
    if (error instanceof RangeError)
      throw new InvalidInput(`manifest is larger than ${maxBytes} bytes`, { field: 'manifest' });
    throw error;
  }
  if (text === undefined)
    throw new InvalidInput(`manifest s3://${location.bucket}/${location.key} does not exist`, { field: 'manifest' });
  return text;
}
