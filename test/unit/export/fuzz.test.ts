import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_LISTED_PROBLEMS, parseManifest } from '#lib/export/manifest.ts';
import { MAX_EVENT_NUMBERS, resolveNumbers, type ResolvedNumbers } from '#lib/export/numbers.ts';
import { requestOf, type ExportRequest } from '#lib/export/request.ts';
import { InvalidInput } from '#lib/errors.ts';
import { memoryStore } from '../../support/memory-store.ts';

/**
 * Fuzzing the export's inputs: a manifest of any bytes parses without throwing into sorted, unique
 * E.164 numbers and located problems; any event either resolves or is refused with InvalidInput
 * naming the field at fault.
 */

const SEED = 20261126;
const RUNS = 400;
const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_BYTES = 2048;
const BUCKET = 'lists';

const validNumber = fc.stringMatching(/^\+[1-9]\d{6,14}$/);
const NEWLINE = fc.constantFrom('\n', '\r\n');

/** Lines of text with no line break inside, from the messy to the plausible. */
const lineWithoutBreak = (arbitrary: fc.Arbitrary<string>) => arbitrary.map((s) => s.replace(/\n/g, ''));
const padding = fc.constantFrom('', ' ', '\t', '  ', '\u00a0', '\r');
const paddedNumber = fc.tuple(padding, validNumber, padding).map((parts) => parts.join(''));
const comment = fc.tuple(padding, fc.string()).map(([pad, text]) => `${pad}#${text.replace(/\n/g, '')}`);
const garbage = lineWithoutBreak(
  fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.stringMatching(/^\+?[0-9 ()-]{0,20}$/),
    validNumber.map((n) => `${n}x`),
    validNumber.map((n) => `0${n.slice(1)}`),
    validNumber.map((n) => `+${n}`),
  ),
);
const anyLine = fc.oneof(paddedNumber, comment, garbage, padding, lineWithoutBreak(fc.string({ unit: 'binary' })));

/** Lines joined by \n or \r\n, with an optional BOM and final newline. */
function joined(lines: fc.Arbitrary<string[]>): fc.Arbitrary<string> {
  return fc
    .tuple(lines, fc.array(NEWLINE, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.boolean())
    .map(([parts, breaks, bom, finalBreak]) => {
      let text = bom ? '\uFEFF' : '';
      parts.forEach((part, i) => {
        text += part;
        if (i < parts.length - 1 || finalBreak) text += breaks[i % breaks.length];
      });
      return text;
    });
}

/** A cell as RFC 4180 writes it: quoted (quotes doubled) when it must be, sometimes when it need not. */
function csvCell(value: string, quote: boolean): string {
  return quote || /[",]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const cellText = fc.string({
  unit: fc.constantFrom('a', 'b', '1', '+', ' ', ',', '"', '#', '\t', 'é', '中', '\u00a0'),
  maxLength: 12,
});
const phoneCell = fc.oneof(
  paddedNumber.map((s) => s.replace(/\r/g, '')),
  validNumber,
  cellText,
  fc.constant(''),
);
const headerVariant = fc.constantFrom(
  'phoneNumber',
  'PhoneNumber',
  'phonenumber',
  ' phoneNumber ',
  'PHONENUMBER',
  '\tphoneNumber',
);

interface CsvCase {
  text: string;
  /** Expected line by line: skipped, or the trimmed value of the phone column. */
  rows: Array<{ line: number; value: string } | null>;
}

/** CSV with a phoneNumber column somewhere, a few other columns, and rows of random cells. */
const csvManifest: fc.Arbitrary<CsvCase> = fc
  .record({
    before: fc.array(fc.oneof(comment, padding), { maxLength: 3 }),
    columns: fc.integer({ min: 0, max: 3 }),
    column: fc.nat(),
    header: headerVariant,
    quoteHeader: fc.boolean(),
    rows: fc.array(
      fc.record({
        phone: phoneCell,
        others: fc.array(cellText, { minLength: 3, maxLength: 3 }),
        quotes: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        short: fc.boolean(),
      }),
      { maxLength: 25 },
    ),
    newline: NEWLINE,
  })
  .map(({ before, columns, column, header, quoteHeader, rows, newline }) => {
    const width = columns + 1;
    const at = column % width;
    const headerCells = Array.from({ length: width }, (_, i) => (i === at ? csvCell(header, quoteHeader) : `col${i}`));
    const lines = [...before, headerCells.join(',')];
    const expected: CsvCase['rows'] = before.map(() => null);
    expected.push(null);
    for (const row of rows) {
      const cells = Array.from({ length: width }, (_, i) =>
        i === at
          ? csvCell(row.phone, row.quotes[0] as boolean)
          : csvCell(row.others[i % 3] as string, row.quotes[i % 4] as boolean),
      );
      // A short row stops before the phone column (or is cut to nothing).
      const written = row.short ? cells.slice(0, at) : cells;
      const line = written.join(',');
      lines.push(line);
      const skipped = line.trim() === '' || line.trimStart().startsWith('#');
      expected.push(skipped ? null : { line: lines.length, value: row.short ? '' : row.phone.trim() });
    }
    return { text: lines.join(newline), rows: expected };
  });

/** The invariants every parse keeps, whatever the text. */
function checkInvariants(text: string, parsed: ReturnType<typeof parseManifest>): void {
  const lineCount = text.replace(/^\uFEFF/, '').split(/\r?\n/).length;
  for (const number of parsed.numbers) expect(number).toMatch(E164);
  expect(parsed.numbers).toEqual([...parsed.numbers].sort());
  expect(new Set(parsed.numbers).size).toBe(parsed.numbers.length);
  expect(parsed.problems.length).toBeLessThanOrEqual(MAX_LISTED_PROBLEMS);
  expect(parsed.problems.length).toBe(Math.min(parsed.problemCount, MAX_LISTED_PROBLEMS));
  // A plain list's duplicates are exact; in a CSV each number read, first or repeated, is a cell of its own,
  // so one of the text's E.164 strings.
  const e164Strings = text.match(/\+[1-9]\d{6,14}(?!\d)/g)?.length ?? 0;
  if (isPlain(text)) expect(parsed.duplicates).toBe(expectedPlain(text).duplicates);
  else expect(parsed.numbers.length + parsed.duplicates).toBeLessThanOrEqual(e164Strings);
  let previous = 0;
  for (const problem of parsed.problems) {
    expect(Number.isInteger(problem.line)).toBe(true);
    expect(problem.line).toBeGreaterThanOrEqual(1);
    expect(problem.line).toBeLessThanOrEqual(lineCount);
    // Reported in file order, each line once.
    expect(problem.line).toBeGreaterThan(previous);
    previous = problem.line;
    expect(typeof problem.reason).toBe('string');
    expect(problem.reason.length).toBeGreaterThan(0);
  }
}

/** No CSV header: the first line that is neither blank nor a comment names no phoneNumber column. */
function isPlain(text: string): boolean {
  const first = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .find((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  return first === undefined || !/phonenumber/i.test(first);
}

/** What a plain list (no CSV header) must give, line by line. */
function expectedPlain(text: string): { numbers: string[]; problemLines: number[]; duplicates: number } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const numbers: string[] = [];
  const problemLines: number[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    if (E164.test(line.trim())) numbers.push(line.trim());
    else problemLines.push(index + 1);
  });
  const unique = [...new Set(numbers)].sort();
  return { numbers: unique, problemLines, duplicates: numbers.length - unique.length };
}

describe('parseManifest: fuzzed text', () => {
  it('never throws on any string; numbers are E.164, sorted, unique; problems are located and capped', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary', maxLength: 2000 }),
      joined(fc.array(anyLine, { maxLength: 40 })),
      joined(fc.array(lineWithoutBreak(fc.string({ unit: 'binary' })), { maxLength: 20 })),
      csvManifest.map((c) => c.text),
      fc
        .tuple(
          fc.constantFrom('phoneNumber', 'id,phoneNumber', '"phoneNumber",x'),
          fc.array(fc.string({ unit: 'binary' }), { maxLength: 20 }),
        )
        .map(([header, rows]) => [header, ...rows].join('\n')),
    );
    fc.assert(
      fc.property(text, (input) => {
        checkInvariants(input, parseManifest(input));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a plain list gives exactly its valid lines as numbers and its other lines as problems', () => {
    // Lines that could make the first line a CSV header are left out: that is the CSV property below.
    // Some lines are repeated further down, so duplicates occur.
    const lines = fc
      .tuple(
        fc.array(
          anyLine.filter((line) => !/phonenumber/i.test(line)),
          { maxLength: 60 },
        ),
        fc.array(fc.nat(), { maxLength: 6 }),
      )
      .map(([unique, picks]) =>
        unique.length === 0 ? unique : [...unique, ...picks.map((pick) => unique[pick % unique.length] as string)],
      );
    const seen = { numbers: 0, problems: 0, duplicates: 0 };
    fc.assert(
      fc.property(joined(lines), (text) => {
        const parsed = parseManifest(text);
        checkInvariants(text, parsed);
        if (parsed.numbers.length > 0) seen.numbers += 1;
        if (parsed.problemCount > 0) seen.problems += 1;
        if (parsed.duplicates > 0) seen.duplicates += 1;
        const expected = expectedPlain(text);
        expect(parsed.numbers).toEqual(expected.numbers);
        expect(parsed.problemCount).toBe(expected.problemLines.length);
        expect(parsed.problems.map((p) => p.line)).toEqual(expected.problemLines.slice(0, MAX_LISTED_PROBLEMS));
        expect(parsed.duplicates).toBe(expected.duplicates);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The oracle was exercised on numbers, problems and duplicates alike.
    expect(seen.numbers).toBeGreaterThan(50);
    expect(seen.problems).toBeGreaterThan(50);
    expect(seen.duplicates).toBeGreaterThan(0);
  });

  it('a CSV manifest gives exactly the valid cells of its phoneNumber column, quoted or not', () => {
    const seen = { numbers: 0, problems: 0, quoted: 0 };
    fc.assert(
      fc.property(csvManifest, fc.boolean(), ({ text, rows }, bom) => {
        const input = bom ? `\uFEFF${text}` : text;
        const parsed = parseManifest(input);
        checkInvariants(input, parsed);
        if (parsed.numbers.length > 0) seen.numbers += 1;
        if (parsed.problemCount > 0) seen.problems += 1;
        if (/"\+/.test(text) && parsed.numbers.length > 0) seen.quoted += 1;
        const values = rows.filter((row): row is { line: number; value: string } => row !== null);
        const valid = values.filter((row) => E164.test(row.value)).map((row) => row.value);
        const problemLines = values.filter((row) => !E164.test(row.value)).map((row) => row.line);
        expect(parsed.numbers).toEqual([...new Set(valid)].sort());
        expect(parsed.problemCount).toBe(problemLines.length);
        expect(parsed.problems.map((p) => p.line)).toEqual(problemLines.slice(0, MAX_LISTED_PROBLEMS));
        expect(parsed.duplicates).toBe(valid.length - new Set(valid).size);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(seen.numbers).toBeGreaterThan(50);
    expect(seen.problems).toBeGreaterThan(50);
    expect(seen.quoted).toBeGreaterThan(10);
  });

  it('lists at most 100 problems however many there are, counting them all', () => {
    const bad = fc.array(
      garbage.filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#') && !/phonenumber/i.test(line)),
      {
        minLength: MAX_LISTED_PROBLEMS + 1,
        maxLength: 400,
      },
    );
    fc.assert(
      fc.property(bad, fc.array(validNumber, { maxLength: 5 }), NEWLINE, (lines, numbers, newline) => {
        const text = [...numbers, ...lines].join(newline);
        const parsed = parseManifest(text);
        checkInvariants(text, parsed);
        expect(parsed.problemCount).toBe(lines.length);
        expect(parsed.problemCount).toBeGreaterThan(MAX_LISTED_PROBLEMS);
        expect(parsed.problems).toHaveLength(MAX_LISTED_PROBLEMS);
        expect(parsed.problems[0]?.line).toBe(numbers.length + 1);
        expect(parsed.numbers).toEqual([...new Set(numbers)].sort());
      }),
      { seed: SEED, numRuns: 50 },
    );
  });
});

// ---- requestOf + resolveNumbers ------------------------------------------------------------------

const MANIFEST_URL = `s3://${BUCKET}/numbers.txt`;

const phoneEntry = fc.oneof(validNumber, fc.jsonValue(), fc.string({ unit: 'binary' }));
/** Entries drawn from a few, so a list repeats its numbers, and the manifest's ('+8613711112222\n' repeated). */
const repeatedEntry = fc.oneof(fc.constantFrom('+8613711112222', '+14155550123', ' +14155550123'), phoneEntry);
const manifestRef = fc.oneof(
  fc.constant(MANIFEST_URL),
  fc.constant(`s3://${BUCKET}/missing.txt`),
  fc.constantFrom(
    's3://lists',
    's3://x/k',
    's3://LISTS/numbers.txt',
    'https://lists.s3.amazonaws.com/numbers.txt',
    '',
    's3:///k',
  ),
  fc.string().map((key) => `s3://${BUCKET}/${key}`),
  fc.jsonValue(),
);
const timeish = fc.oneof(fc.integer(), fc.string(), fc.jsonValue(), fc.constant(undefined));

const exportEvent: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.object(),
  fc.record(
    {
      phoneNumbers: fc.oneof(
        fc.array(phoneEntry, { maxLength: 20 }),
        fc.array(validNumber, { maxLength: 20 }),
        phoneEntry,
      ),
      manifest: manifestRef,
      beginTime: timeish,
      endTime: timeish,
    },
    { requiredKeys: [] },
  ),
  fc
    .tuple(
      fc.record({ phoneNumbers: fc.array(validNumber, { maxLength: 5 }), manifest: manifestRef }, { requiredKeys: [] }),
      fc.dictionary(
        fc.oneof(fc.string(), fc.constantFrom('phoneNumber', 'source', 'detail-type', 'schedule', '__proto__')),
        fc.jsonValue(),
        {
          maxKeys: 2,
        },
      ),
    )
    .map(([known, extra]) => ({ ...extra, ...known })),
  fc.constantFrom(
    { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
    { schedule: 'hourly' },
    { manifest: '' },
  ),
  // Lists that repeat their numbers, alone or beside the manifest: duplicates within and across the two.
  fc.record(
    { phoneNumbers: fc.array(repeatedEntry, { minLength: 1, maxLength: 12 }), manifest: fc.constant(MANIFEST_URL) },
    { requiredKeys: ['phoneNumbers'] },
  ),
);

/** Manifest text the store may hold: from tiny to over the size limit. */
const manifestText = fc.oneof(
  joined(fc.array(anyLine, { maxLength: 30 })),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .integer({ min: MAX_BYTES - 10, max: MAX_BYTES * 2 })
    .map((size) => '+8613711112222\n'.repeat(Math.ceil(size / 15)).slice(0, size)),
);

function expectInvalid(error: unknown): InvalidInput {
  expect(error).toBeInstanceOf(InvalidInput);
  const e = error as InvalidInput;
  expect(e.name).toBe('InvalidInput');
  expect(typeof e.field).toBe('string');
  expect(e.field?.length).toBeGreaterThan(0);
  return e;
}

/**
 * What resolveNumbers must give for a request the store's manifest text answers: the list's E.164 strings
 * and the manifest's numbers (the plain-list oracle; parseManifest, fuzzed above, for a CSV), united; every
 * entry that is no number a problem; every number read beyond its first a duplicate.
 */
function expectedResolved(request: ExportRequest, text: string): Omit<ResolvedNumbers, 'problems'> {
  const listed = Array.isArray(request.phoneNumbers) ? (request.phoneNumbers as unknown[]) : [];
  const valid = listed.filter((entry): entry is string => typeof entry === 'string' && E164.test(entry));
  const absent = request.manifest === undefined || request.manifest === null || request.manifest === '';
  const manifest = absent ? { numbers: [], problemCount: 0, duplicates: 0 } : manifestOracle(text);
  const numbers = [...new Set([...valid, ...manifest.numbers])].sort();
  return {
    numbers,
    problemCount: listed.length - valid.length + manifest.problemCount,
    duplicates: valid.length + manifest.numbers.length + manifest.duplicates - numbers.length,
  };
}

function manifestOracle(text: string): { numbers: string[]; problemCount: number; duplicates: number } {
  if (!isPlain(text)) return parseManifest(text);
  const { numbers, problemLines, duplicates } = expectedPlain(text);
  return { numbers, problemCount: problemLines.length, duplicates };
}

function checkResolved(resolved: ResolvedNumbers, request: ExportRequest, text = ''): void {
  for (const number of resolved.numbers) expect(number).toMatch(E164);
  expect(resolved.numbers).toEqual([...resolved.numbers].sort());
  expect(new Set(resolved.numbers).size).toBe(resolved.numbers.length);
  const expected = expectedResolved(request, text);
  expect(resolved.numbers).toEqual(expected.numbers);
  expect(resolved.problemCount).toBe(expected.problemCount);
  expect(resolved.duplicates).toBe(expected.duplicates);
}

/** An event resolved against a store holding `text` as the manifest: the numbers, or the error. */
async function resolveEvent(event: unknown, text: string): Promise<{ resolved: ResolvedNumbers } | { error: unknown }> {
  const store = memoryStore();
  store.put(BUCKET, 'numbers.txt', text);
  try {
    return { resolved: await resolveNumbers(requestOf(event), {}, store, MAX_BYTES) };
  } catch (error) {
    return { error };
  }
}

describe('requestOf and resolveNumbers: fuzzed events', () => {
  // One property per behaviour, each replaying the same events (same seed, same runs).
  it('either resolves or refuses every event, each outcome many times', async () => {
    const seen = { resolved: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(exportEvent, manifestText, async (event, text) => {
        const outcome = await resolveEvent(event, text);
        seen['resolved' in outcome ? 'resolved' : 'refused'] += 1;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // A list with no valid number is refused too, so fewer events resolve than refuse.
    expect(seen.resolved).toBeGreaterThan(15);
    expect(seen.refused).toBeGreaterThan(20);
  });

  it('a resolved event gives sorted, unique E.164 numbers', async () => {
    await fc.assert(
      fc.asyncProperty(exportEvent, manifestText, async (event, text) => {
        const outcome = await resolveEvent(event, text);
        if ('resolved' in outcome) checkResolved(outcome.resolved, requestOf(event), text);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a refused event is refused with InvalidInput naming a field (a manifest too large is over the limit)', async () => {
    await fc.assert(
      fc.asyncProperty(exportEvent, manifestText, async (event, text) => {
        const outcome = await resolveEvent(event, text);
        if (!('error' in outcome)) return;
        const e = expectInvalid(outcome.error);
        if (e.field === 'manifest' && /larger than/.test(e.message))
          expect(Buffer.byteLength(text)).toBeGreaterThan(MAX_BYTES);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('refuses more than MAX_EVENT_NUMBERS phoneNumbers in an event, naming phoneNumbers', async () => {
    const oversized = fc
      .tuple(fc.integer({ min: 1, max: 500 }), fc.array(phoneEntry, { minLength: 1, maxLength: 5 }), fc.boolean())
      .map(([extra, items, withManifest]) => ({
        phoneNumbers: Array.from({ length: MAX_EVENT_NUMBERS + extra }, (_, i) => items[i % items.length]),
        ...(withManifest ? { manifest: MANIFEST_URL } : {}),
      }));
    await fc.assert(
      fc.asyncProperty(oversized, async (event) => {
        const store = memoryStore();
        store.put(BUCKET, 'numbers.txt', '+8613711112222\n');
        let error: unknown;
        try {
          await resolveNumbers(requestOf(event), {}, store, MAX_BYTES);
        } catch (e) {
          error = e;
        }
        expect(expectInvalid(error).field).toBe('phoneNumbers');
      }),
      { seed: SEED, numRuns: 30 },
    );
  });

  it('accepts exactly MAX_EVENT_NUMBERS phoneNumbers', async () => {
    const numbers = Array.from({ length: MAX_EVENT_NUMBERS }, (_, i) => `+86137${String(i).padStart(8, '0')}`);
    const resolved = await resolveNumbers(requestOf({ phoneNumbers: numbers }), {}, memoryStore(), MAX_BYTES);
    expect(resolved.numbers).toHaveLength(MAX_EVENT_NUMBERS);
    checkResolved(resolved, { phoneNumbers: numbers });
  });

  /** A manifest of `size` bytes (a number, then filler), with or without numbers listed in the event. */
  const sizedManifest = [
    fc.integer({ min: 1, max: MAX_BYTES * 2 }),
    fc.array(validNumber, { maxLength: 5 }),
    fc.constantFrom('\n', '\r\n', ',', ' '),
  ] as const;

  async function resolveSized(
    size: number,
    listed: string[],
    filler: string,
  ): Promise<{ text: string; event: ExportRequest; outcome: Awaited<ReturnType<typeof resolveEvent>> }> {
    const text = `+8613711112222\n${filler.repeat(size)}`.slice(0, Math.max(size, 1));
    const event = listed.length > 0 ? { phoneNumbers: listed, manifest: MANIFEST_URL } : { manifest: MANIFEST_URL };
    return { text, event, outcome: await resolveEvent(event, text) };
  }

  it('refuses a manifest larger than the limit, naming manifest and the limit', async () => {
    await fc.assert(
      fc.asyncProperty(...sizedManifest, async (size, listed, filler) => {
        const { text, outcome } = await resolveSized(size, listed, filler);
        if (Buffer.byteLength(text) <= MAX_BYTES) return;
        const e = expectInvalid('error' in outcome ? outcome.error : undefined);
        expect(e.field).toBe('manifest');
        expect(e.message).toContain(String(MAX_BYTES));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('reads a manifest within the limit', async () => {
    await fc.assert(
      fc.asyncProperty(...sizedManifest, async (size, listed, filler) => {
        const { text, event, outcome } = await resolveSized(size, listed, filler);
        if (Buffer.byteLength(text) > MAX_BYTES) return;
        // A manifest cut shorter than its one number, nothing listed beside it: it holds no number, refused, named.
        if (listed.length === 0 && !text.startsWith('+8613711112222')) {
          const e = expectInvalid('error' in outcome ? outcome.error : undefined);
          expect([e.field, e.message]).toEqual(['manifest', expect.stringContaining('no valid phone number')]);
          return;
        }
        expect('error' in outcome ? outcome.error : undefined).toBeUndefined();
        checkResolved((outcome as { resolved: ResolvedNumbers }).resolved, event, text);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('refuses an oversized manifest named in the configured defaults as well', async () => {
    const store = memoryStore();
    store.put(BUCKET, 'numbers.txt', '+8613711112222\n'.repeat(MAX_BYTES));
    let error: unknown;
    try {
      await resolveNumbers(
        requestOf({ source: 'aws.events', 'detail-type': 'Scheduled Event' }),
        { manifest: MANIFEST_URL },
        store,
        MAX_BYTES,
      );
    } catch (e) {
      error = e;
    }
    expect(expectInvalid(error).field).toBe('manifest');
  });
});
