/** The report's window from --begin / --end: defaults, both notations, and each refusal naming its option. */
import { describe, expect, it } from 'vitest';
import { MAX_REPORT_DAYS, parseReportWindow, windowDays } from '#lib/report/window.ts';

const NOW = 1_796_428_800 + 12_345;
const DAY = 86_400;

describe('parseReportWindow', () => {
  it('defaults to the last 7 days, ending now; an end alone gets the 7 days before it', () => {
    expect(parseReportWindow({}, NOW)).toEqual({ beginTime: NOW - 7 * DAY, endTime: NOW });
    expect(parseReportWindow({ end: '1796000000' }, NOW)).toEqual({
      beginTime: 1_796_000_000 - 7 * DAY,
      endTime: 1_796_000_000,
    });
    expect(parseReportWindow({ begin: '1796000000' }, NOW)).toEqual({ beginTime: 1_796_000_000, endTime: NOW });
  });

  it('takes unix seconds and ISO-8601, UTC unless an offset is given', () => {
    expect(parseReportWindow({ begin: '2026-11-01', end: '2026-11-02T00:00:00+08:00' }, NOW)).toEqual({
      beginTime: Date.UTC(2026, 10, 1) / 1000,
      endTime: Date.UTC(2026, 10, 1, 16) / 1000,
    });
    expect(parseReportWindow({ begin: '2026-11-01T10:00', end: '2026-11-01T11:00' }, NOW).beginTime).toBe(
      Date.UTC(2026, 10, 1, 10) / 1000,
    );
  });

  it.each([
    [{ begin: 'yesterday' }, 'begin'],
    [{ end: '2026-02-30' }, 'end'],
    [{ begin: '1750000000', end: '1750000000' }, 'end'],
    [{ begin: '1750000001', end: '1750000000' }, 'end'],
    [{ begin: '1990-01-01' }, 'begin'],
    [{ begin: String(NOW - (MAX_REPORT_DAYS * DAY + 1)) }, 'begin'],
  ])('%j is refused naming %s', (raw, field) => {
    expect(() => parseReportWindow(raw, NOW)).toThrow(expect.objectContaining({ name: 'InvalidInput', field }));
  });

  it(`a window of exactly ${MAX_REPORT_DAYS} days is taken`, () => {
    expect(parseReportWindow({ begin: String(NOW - MAX_REPORT_DAYS * DAY) }, NOW).beginTime).toBe(
      NOW - MAX_REPORT_DAYS * DAY,
    );
  });
});

describe('windowDays: the dt= partitions a window reads', () => {
  it('from the day of begin to the day of end - 1: an end at midnight reads no day past it', () => {
    const midnight = Date.UTC(2026, 10, 3) / 1000;
    expect(windowDays({ beginTime: midnight - DAY - 1, endTime: midnight })).toEqual(['2026-11-01', '2026-11-02']);
    expect(windowDays({ beginTime: midnight - DAY, endTime: midnight + 1 })).toEqual(['2026-11-02', '2026-11-03']);
    expect(windowDays({ beginTime: midnight + 5, endTime: midnight + 6 })).toEqual(['2026-11-03']);
  });
});
