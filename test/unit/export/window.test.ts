import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { agedOut, DEFAULT_RECONCILE_SECONDS, scheduledWindow, windowOf } from '#lib/export/window.ts';
import { InvalidInput } from '#lib/errors.ts';
import { MAX_LOOKBACK_SECONDS } from '#lib/tencent/types.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;
const NOW = 1_750_000_000;
const SETTINGS = { latenessSeconds: HOUR, initialLookbackSeconds: DAY };
/** Default windows stay this far inside Tencent's 7 days (query.ts). */
const MARGIN = 300;
const OLDEST = NOW - MAX_LOOKBACK_SECONDS + MARGIN;

function invalid(error: unknown, field: string): InvalidInput {
  expect(error).toBeInstanceOf(InvalidInput);
  const e = error as InvalidInput;
  expect(e.name).toBe('InvalidInput');
  expect(e.field).toBe(field);
  expect(e.retryable).toBe(false);
  return e;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('windowOf', () => {
  it('a scheduled request uses the scheduled window; an explicit one is parsed and checked', () => {
    expect(windowOf({}, undefined, NOW, SETTINGS)).toEqual(scheduledWindow(undefined, NOW, SETTINGS));
    expect(windowOf({}, NOW - 7200, NOW, SETTINGS)).toEqual({ beginTime: NOW - 7200 - 3600, endTime: NOW });
    expect(windowOf({ beginTime: NOW - 100, endTime: NOW - 50 }, NOW - 10, NOW, SETTINGS)).toEqual({
      beginTime: NOW - 100,
      endTime: NOW - 50,
    });
    expect(windowOf({ beginTime: String(NOW - 100) }, undefined, NOW, SETTINGS)).toEqual({
      beginTime: NOW - 100,
      endTime: NOW,
    });
    invalid(
      thrown(() => windowOf({ beginTime: NOW - 8 * 86400 }, undefined, NOW, SETTINGS)),
      'beginTime',
    );
    invalid(
      thrown(() => windowOf({ beginTime: NOW - 100, endTime: NOW - 200 }, undefined, NOW, SETTINGS)),
      'endTime',
    );
    invalid(
      thrown(() => windowOf({ beginTime: 'yesterday' }, undefined, NOW, SETTINGS)),
      'beginTime',
    );
  });

  it('the reconciliation sweep takes the last reconcileSeconds (72 hours unless set), whatever the checkpoint', () => {
    expect(DEFAULT_RECONCILE_SECONDS).toBe(72 * HOUR);
    const sweep = { reconcile: true };
    expect(windowOf(sweep, undefined, NOW, SETTINGS)).toEqual({ beginTime: NOW - 72 * HOUR, endTime: NOW });
    const sixHours = { ...SETTINGS, reconcileSeconds: 6 * HOUR };
    expect(windowOf(sweep, NOW - HOUR, NOW, sixHours)).toEqual({ beginTime: NOW - 6 * HOUR, endTime: NOW });
  });

  it('the sweep never reaches past what Tencent still serves', () => {
    const month = { ...SETTINGS, reconcileSeconds: 30 * DAY };
    expect(windowOf({ reconcile: true }, undefined, NOW, month)).toEqual({ beginTime: OLDEST, endTime: NOW });
  });
});

describe('scheduledWindow', () => {
  it('the first run looks back initialLookbackSeconds and ends now', () => {
    expect(scheduledWindow(undefined, NOW, SETTINGS)).toEqual({ beginTime: NOW - DAY, endTime: NOW });
  });

  it('a later run starts at the checkpoint less the lateness overlap', () => {
    const checkpoint = NOW - 2 * HOUR;
    expect(scheduledWindow(checkpoint, NOW, SETTINGS)).toEqual({ beginTime: checkpoint - HOUR, endTime: NOW });
    expect(scheduledWindow(checkpoint, NOW, { ...SETTINGS, latenessSeconds: 0 })).toEqual({
      beginTime: checkpoint,
      endTime: NOW,
    });
  });

  it('never reaches past what Tencent still serves (7 days, less a margin)', () => {
    const oldest = NOW - MAX_LOOKBACK_SECONDS + MARGIN;
    expect(scheduledWindow(NOW - 30 * DAY, NOW, SETTINGS)).toEqual({ beginTime: oldest, endTime: NOW });
    expect(scheduledWindow(NOW - 7 * DAY + 10 * 60, NOW, SETTINGS).beginTime).toBe(oldest);
    expect(scheduledWindow(undefined, NOW, { ...SETTINGS, initialLookbackSeconds: 7 * DAY }).beginTime).toBe(oldest);
    expect(scheduledWindow(undefined, NOW, { ...SETTINGS, initialLookbackSeconds: 30 * DAY }).beginTime).toBe(oldest);
  });

  it('never begins after now, even with a checkpoint in the future (clock skew)', () => {
    expect(scheduledWindow(NOW + 5 * HOUR, NOW, SETTINGS)).toEqual({ beginTime: NOW, endTime: NOW });
  });

  it('always lies inside [now − 7 days, now]', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: NOW - 60 * DAY, max: NOW + DAY }), { nil: undefined }),
        fc.integer({ min: 0, max: 6 * DAY }),
        fc.integer({ min: 60, max: 7 * DAY }),
        (checkpoint, lateness, lookback) => {
          const w = scheduledWindow(checkpoint, NOW, { latenessSeconds: lateness, initialLookbackSeconds: lookback });
          expect(w.endTime).toBe(NOW);
          expect(w.beginTime).toBeLessThanOrEqual(NOW);
          expect(w.beginTime).toBeGreaterThanOrEqual(NOW - MAX_LOOKBACK_SECONDS);
        },
      ),
    );
  });
});

describe('agedOut', () => {
  it('nothing without a checkpoint, nor with one Tencent still serves', () => {
    expect(agedOut(undefined, NOW)).toBeUndefined();
    expect(agedOut(NOW - HOUR, NOW)).toBeUndefined();
    expect(agedOut(OLDEST, NOW)).toBeUndefined();
  });

  it('a checkpoint past Tencent’s reach: from it up to the second before the oldest Tencent serves', () => {
    expect(agedOut(OLDEST - 1, NOW)).toEqual({ beginTime: OLDEST - 1, endTime: OLDEST - 1 });
    expect(agedOut(NOW - 8 * DAY, NOW)).toEqual({ beginTime: NOW - 8 * DAY, endTime: OLDEST - 1 });
  });

  it('ends where the scheduled window of the same checkpoint begins: no second is both lost and pulled', () => {
    for (const checkpoint of [NOW - 30 * DAY, NOW - 8 * DAY, OLDEST - 1]) {
      const lost = agedOut(checkpoint, NOW);
      expect(lost?.endTime).toBe(scheduledWindow(checkpoint, NOW, SETTINGS).beginTime - 1);
    }
  });
});
