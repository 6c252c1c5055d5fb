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
 * One E.164 number per line, or CSV with a `phoneNumber` column. Blank lines and `#` comments are
 * skipped; a malformed line is reported with its number and the run goes on without it.
 */
export function parseManifest(text: string): ParsedNumbers & { problemCount: number } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = lines.findIndex((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  const cells = header >= 0 ? splitCsv(lines[header] as string) : [];
  const column = cells.findIndex((cell) => cell.trim().toLowerCase() === 'phonenumber');
  const csv = column >= 0;
  const values: Array<{ line: number; value: string }> = [];
  lines.forEach((line, index) => {
    if ((csv && index <= header) || line.trim() === '' || line.trimStart().startsWith('#')) return;
    const value = csv ? splitCsv(line)[column] : line;
    values.push({ line: index + 1, value: (value ?? '').trim() });
  });
  return collect(values);
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
      if (problems.length < MAX_LISTED_PROBLEMS) problems.push({ line, reason: (error as Error).message.replace(/^[\w.]+: /, '') });
    }
  }
  return { numbers: [...seen].sort(), problems, problemCount, duplicates };
}

/** RFC 4180 cells of one line: commas, quoted cells, doubled quotes. */
function splitCsv(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
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
    if (error instanceof RangeError) throw new InvalidInput(`manifest is larger than ${maxBytes} bytes`, { field: 'manifest' });
    throw error;
  }
  if (text === undefined) throw new InvalidInput(`manifest s3://${location.bucket}/${location.key} does not exist`, { field: 'manifest' });
  return text;
}
