/** The twin's clock: real time shifted by an offset, so tests can start it anywhere and move it. */
export interface TwinClock {
  /** Ms since epoch. */
  now(): number;
  /** Moves the clock by this many seconds (negative goes back). */
  advance(seconds: number): void;
}

/** A clock that reads `start` (ms since epoch) now, or real time without one, and runs at real speed. */
export function createClock(start?: number): TwinClock {
  let offset = start === undefined ? 0 : start - Date.now();
  return {
    now: () => Date.now() + offset,
    advance(seconds) {
      if (!Number.isFinite(seconds)) throw new TypeError('advance(seconds) needs a finite number');
      offset += seconds * 1000;
    },
  };
}
