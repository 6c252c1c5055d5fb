import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toLine } from '#lib/lake/line.ts';
import { laterOf, previousIfChanged, uniqueBySerial } from '#lib/lake/versions.ts';
import { lakeRecord as record } from '../../support/lake.ts';

const T0 = Date.UTC(2024, 4, 1, 8) / 1000;
const failed = { reportStatus: 'FAIL', description: 'UNDELIV' };

describe('laterOf (the merge rule)', () => {
  it('keeps the version received later, whichever comes first', () => {
    const early = record(1, T0, failed);
    const late = record(1, T0 + 60);
    expect(laterOf(early, late)).toBe(late);
    expect(laterOf(late, early)).toBe(late);
  });

  it('for equal receive times keeps the version whose line sorts last, whichever comes first', () => {
    const a = record(1, T0, { reportStatus: 'FAIL', description: 'EXPIRED' });
    const b = record(1, T0, { reportStatus: 'FAIL', description: 'UNDELIV' });
    expect(toLine(b) > toLine(a)).toBe(true);
    expect(laterOf(a, b)).toBe(b);
    expect(laterOf(b, a)).toBe(b);
  });

  it('commutes for any two versions: the content decides, never the order', () => {
    const version = fc.record({
      offset: fc.integer({ min: 0, max: 3 }),
      reportStatus: fc.constantFrom('SUCCESS', 'FAIL'),
      description: fc.constantFrom('DELIVRD', 'UNDELIV', 'EXPIRED'),
      sdkAppId: fc.constantFrom('1400000000', '1400000001'),
    });
    fc.assert(
      fc.property(version, version, (x, y) => {
        const [a, b] = [record(1, T0 + x.offset, x), record(1, T0 + y.offset, y)];
        expect(toLine(laterOf(a, b))).toBe(toLine(laterOf(b, a)));
      }),
      { seed: 20261205, numRuns: 200 },
    );
  });
});

describe('uniqueBySerial', () => {
  it('one version per serialNo, the later one, sorted by receive time then serialNo', () => {
    const records = [record(3, T0 + 5), record(2, T0 + 9), record(1, T0 + 5, failed), record(2, T0 + 1, failed)];
    records.push(record(1, T0 + 7));
    expect(uniqueBySerial(records)).toEqual([record(3, T0 + 5), record(1, T0 + 7), record(2, T0 + 9)]);
  });

  it('gives the same records whatever order they arrive in', () => {
    const records = [record(3, T0 + 5), record(2, T0 + 9), record(1, T0 + 5, failed), record(2, T0 + 1, failed)];
    records.push(record(1, T0 + 5));
    const once = uniqueBySerial(records);
    expect(uniqueBySerial([...records].reverse())).toEqual(once);
    expect(uniqueBySerial([4, 0, 2, 3, 1].map((i) => records[i] as (typeof records)[number]))).toEqual(once);
  });
});

describe('previousIfChanged', () => {
  it('nothing when neither the status nor the carrier’s code changed, even at a later time', () => {
    expect(previousIfChanged(record(1, T0), record(1, T0 + 600))).toBeUndefined();
  });

  it('the stored status and code when either changed', () => {
    expect(previousIfChanged(record(1, T0, failed), record(1, T0 + 600))).toEqual(failed);
    const sameStatus = { reportStatus: 'FAIL', description: 'EXPIRED' };
    expect(previousIfChanged(record(1, T0, failed), record(1, T0, sameStatus))).toEqual(failed);
  });
});
