/** One row as a query engine answers it: lower-case column names (as Athena gives them) to values. */
export type Row = Readonly<Record<string, unknown>>;

/** A row that is not what its query selects: a mistake in the query or the engine, never in the data. */
export class UnexpectedRow extends Error {
  override readonly name = 'UnexpectedRow';
  constructor(query: string, column: string, value: unknown) {
    super(`the ${query} query answered ${column} = ${String(value).slice(0, 64)}`);
  }
}

/** A count: a whole number from 0 up, whether the engine answers BIGINT as a bigint or a number. */
export function countOf(row: Row, column: string, query: string): number {
  const value = row[column];
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0)
    throw new UnexpectedRow(query, column, value);
  return number;
}

/** A delivery rate: from 0 to 1, or null when nothing was delivered or failed. */
export function rateOf(row: Row, column: string, query: string): number | null {
  const value = row[column];
  if (value === null) return null;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new UnexpectedRow(query, column, value);
  return value;
}

/** A text column; null stays null (a receipt without that field). */
export function textOf(row: Row, column: string, query: string): string | null {
  const value = row[column];
  if (value !== null && typeof value !== 'string') throw new UnexpectedRow(query, column, value);
  return value;
}
