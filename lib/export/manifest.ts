import { parsePhoneNumber } from '#lib/status/query.ts';

export interface ManifestProblem {
  line: number;
  reason: string;
}

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

export function parseS3Url(url: unknown, field = 'manifest'): { bucket: string; key: string } {
  const match = typeof url === 'string' ? /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.{1,1024})$/.exec(url) : null;
  if (!match) throw new TypeError(`${field} must be an s3://bucket/key URL`);
  return { bucket: match[1] as string, key: match[2] as string };
}
