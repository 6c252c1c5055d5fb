/** A clock tests move by hand (ms): a Lambda's time running out, Tencent's answers taking time. */
export interface FakeClock {
  now(): number;
  advance(ms: number): void;
}

export function fakeClock(startMs = 0): FakeClock {
  let ms = startMs;
  return {
    now: () => ms,
    advance(by) {
      ms += by;
    },
  };
}

/** An invocation's `getRemainingTimeInMillis` on `clock`: `ms` from now, counting down as the clock moves. */
export function remainingTime(clock: FakeClock, ms: number): () => number {
  const deadline = clock.now() + ms;
  return () => deadline - clock.now();
}
