import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseS3Url } from '#lib/config.ts';
import { collect, MAX_LISTED_PROBLEMS, parseManifest } from '#lib/export/manifest.ts';

const A = '+8613711112222';
const B = '+8613800138000';
const C = '+14155550123';
const D = '+8615000150000';

describe('parseManifest: one E.164 number per line', () => {
  it('reads every number, sorted and unique, with no problems', () => {
    expect(parseManifest(`${B}\n${A}\n${C}\n`)).toEqual({
      numbers: [C, A, B].sort(),
      problems: [],
      problemCount: 0,
      duplicates: 0,
    });
  });

  it('accepts a file without a final newline, and trims blanks around a number', () => {
    expect(parseManifest(`  ${A}\t\n${B}`).numbers).toEqual([A, B]);
  });

  it('skips blank lines and # comments (also indented ones)', () => {
    const parsed = parseManifest(`# numbers for the nightly export\n\n${A}\n   \n  # ${B} is commented out\n${C}\n`);
    expect(parsed.numbers).toEqual([C, A]);
    expect(parsed.problems).toEqual([]);
  });

  it('handles CRLF line endings and reports line numbers counted as an editor does', () => {
    const parsed = parseManifest(`${A}\r\n\r\n13800138000\r\n${B}\r\n`);
    expect(parsed.numbers).toEqual([A, B]);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]?.line).toBe(3);
  });

  it('ignores a UTF-8 byte order mark', () => {
    const parsed = parseManifest(`\uFEFF${A}\n${B}\n`);
    expect(parsed.numbers).toEqual([A, B]);
    expect(parsed.problems).toEqual([]);
  });

  it('counts duplicates and keeps each number once', () => {
    const parsed = parseManifest(`${A}\n${B}\n${A}\n${A}\n`);
    expect(parsed.numbers).toEqual([A, B]);
    expect(parsed.duplicates).toBe(2);
  });

  it('reports each malformed line with its line number and the E.164 rule, and goes on without it', () => {
    const text = [
      '# header comment',
      A,
      '13711112222',
      '+86 137 1111 2222',
      B,
      'not a number',
      '+0613711112222',
      C,
    ].join('\n');
    const parsed = parseManifest(text);
    expect(parsed.numbers).toEqual([C, A, B].sort());
    expect(parsed.problems.map((p) => p.line)).toEqual([3, 4, 6, 7]);
    expect(parsed.problemCount).toBe(4);
    for (const problem of parsed.problems) {
      expect(problem.reason).toMatch(/E\.164/);
      // The reason is for people: no error-code prefix.
      expect(problem.reason).not.toMatch(/^InvalidParameterValue/);
    }
  });

  it('an empty or comment-only manifest gives no numbers and no problems', () => {
    for (const text of ['', '\n\n', '# nothing yet\n', '\uFEFF']) {
      expect(parseManifest(text)).toEqual({ numbers: [], problems: [], problemCount: 0, duplicates: 0 });
    }
  });

  it('lists at most MAX_LISTED_PROBLEMS problems but counts them all', () => {
    const lines = Array.from({ length: 250 }, (_, i) => `bad-${i}`);
    lines.splice(10, 0, A);
    const parsed = parseManifest(lines.join('\n'));
    expect(MAX_LISTED_PROBLEMS).toBe(100);
    expect(parsed.numbers).toEqual([A]);
    expect(parsed.problems).toHaveLength(100);
    expect(parsed.problemCount).toBe(250);
    // The first ones in file order, with the valid line 11 skipped.
    expect(parsed.problems.slice(8, 12).map((p) => p.line)).toEqual([9, 10, 12, 13]);
  });
});

describe('parseManifest: CSV with a phoneNumber column', () => {
  it('reads the phoneNumber column wherever it is, skipping the header', () => {
    const text = ['id,phoneNumber,name', `1,${A},Ann`, `2,${B},Bob`, `3,${C},Cy`].join('\n');
    const parsed = parseManifest(text);
    expect(parsed.numbers).toEqual([C, A, B].sort());
    expect(parsed.problems).toEqual([]);
  });

  it('matches the header case-insensitively and around blanks', () => {
    expect(parseManifest(`name, PhoneNumber \nAnn,${A}\n`).numbers).toEqual([A]);
    expect(parseManifest(`PHONENUMBER\n${A}\n${B}\n`).numbers).toEqual([A, B]);
  });

  it('understands quoted cells: commas and doubled quotes inside, quotes around the number', () => {
    const text = [
      'name,phoneNumber,note',
      `"Doe, Jane","${A}","says ""hi"", twice"`,
      `"O""Brien",${B},`,
      `plain,"  ${C} ",x`,
    ].join('\n');
    const parsed = parseManifest(text);
    expect(parsed.numbers).toEqual([C, A, B].sort());
    expect(parsed.problems).toEqual([]);
  });

  it('handles a BOM before the header, CRLF, comments and blank lines', () => {
    const text = `\uFEFF# exported from the CRM\r\nid,phoneNumber\r\n\r\n1,${A}\r\n# 2,${B}\r\n3,${C}\r\n`;
    const parsed = parseManifest(text);
    expect(parsed.numbers).toEqual([C, A]);
    expect(parsed.problems).toEqual([]);
  });

  it('reports malformed rows by line number (a bad value, a missing cell) and keeps the rest', () => {
    const text = ['id,phoneNumber,name', `1,${A},Ann`, '2,13800138000,Bob', '3', `4,${D},Dee`, `5,"${B}",Eve`].join(
      '\n',
    );
    const parsed = parseManifest(text);
    expect(parsed.numbers).toEqual([A, B, D].sort());
    expect(parsed.problems.map((p) => p.line)).toEqual([3, 4]);
    expect(parsed.problemCount).toBe(2);
  });

  it('counts duplicate rows', () => {
    const parsed = parseManifest(`phoneNumber\n${A}\n${A}\n${B}\n`);
    expect(parsed.numbers).toEqual([A, B]);
    expect(parsed.duplicates).toBe(1);
  });

  it('a header-only CSV gives no numbers and no problems', () => {
    expect(parseManifest('id,phoneNumber,name\n')).toEqual({
      numbers: [],
      problems: [],
      problemCount: 0,
      duplicates: 0,
    });
  });

  it('caps listed problems at 100 in CSV too', () => {
    const rows = Array.from({ length: 130 }, (_, i) => `${i},x${i}`);
    const parsed = parseManifest(['id,phoneNumber', ...rows, `999,${A}`].join('\n'));
    expect(parsed.numbers).toEqual([A]);
    expect(parsed.problems).toHaveLength(100);
    expect(parsed.problemCount).toBe(130);
    expect(parsed.problems[0]?.line).toBe(2);
  });
});

describe('parseManifest: properties', () => {
  const e164 = fc
    .tuple(fc.integer({ min: 1, max: 9 }), fc.stringMatching(/^\d{6,14}$/))
    .map(([first, rest]) => `+${first}${rest}`);

  it('any list of valid numbers, in either format and any line ending, parses to its sorted set', () => {
    fc.assert(
      fc.property(
        fc.array(e164, { maxLength: 40 }),
        fc.boolean(),
        fc.constantFrom('\n', '\r\n'),
        (numbers, csv, eol) => {
          const body = csv ? ['phoneNumber', ...numbers.map((n) => `"${n}"`)] : numbers;
          const parsed = parseManifest(body.join(eol) + eol);
          const unique = [...new Set(numbers)].sort();
          expect(parsed.numbers).toEqual(unique);
          expect(parsed.duplicates).toBe(numbers.length - unique.length);
          expect(parsed.problemCount).toBe(0);
        },
      ),
    );
  });
});

describe('collect', () => {
  it('reports values of any type that are not E.164 strings, with the given line numbers', () => {
    const parsed = collect([
      { line: 1, value: A },
      { line: 2, value: 8613711112222 },
      { line: 3, value: null },
      { line: 4, value: { phoneNumber: B } },
      { line: 5, value: B },
      { line: 6, value: A },
    ]);
    expect(parsed.numbers).toEqual([A, B]);
    expect(parsed.problems.map((p) => p.line)).toEqual([2, 3, 4]);
    expect(parsed.problemCount).toBe(3);
    expect(parsed.duplicates).toBe(1);
  });
});

describe('parseS3Url', () => {
  it('splits s3://bucket/key', () => {
    expect(parseS3Url('s3://my-bucket/manifests/numbers.csv')).toEqual({
      bucket: 'my-bucket',
      key: 'manifests/numbers.csv',
    });
    expect(parseS3Url('s3://a.b-c/k')).toEqual({ bucket: 'a.b-c', key: 'k' });
  });

  it.each([
    ['https://my-bucket.s3.amazonaws.com/key'],
    ['s3://my-bucket'],
    ['s3://my-bucket/'],
    ['s3://My_Bucket/key'],
    ['s3:/my-bucket/key'],
    [''],
    [42],
    [undefined],
    [{ bucket: 'b', key: 'k' }],
  ])('refuses %j with a TypeError naming the field', (value) => {
    expect(() => parseS3Url(value)).toThrow(TypeError);
    expect(() => parseS3Url(value)).toThrow(/^manifest must be an s3:\/\/bucket\/key URL$/);
    expect(() => parseS3Url(value, 'EXPORT_MANIFEST')).toThrow(/^EXPORT_MANIFEST /);
  });
});

describe('parseManifest: CSV as a spreadsheet exports it', () => {
  it('a quoted field holding a newline (a notes column) shifts no later row', () => {
    const text =
      'name,phoneNumber,notes\nAda,+8613711112222,"called twice,\nthen wrote"\nBo,+8613800138000,ok\nCy,not-a-number,"x"\n';
    const parsed = parseManifest(text);
    expect(parsed.numbers).toEqual(['+8613711112222', '+8613800138000']);
    expect(parsed.problems).toEqual([{ line: 5, reason: expect.stringContaining('phoneNumber') }]);
  });

  it('a row whose quote never closes is a problem of its own, and the rows before it count', () => {
    const parsed = parseManifest('phoneNumber,notes\n+8613711112222,ok\n+8613800138000,"never closed\n');
    expect(parsed.numbers).toContain('+8613711112222');
    expect(parsed.problemCount).toBeGreaterThan(0);
  });
});
