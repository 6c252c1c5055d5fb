export interface TwinStats {
  received: number;
  accepted: number;
  throttled: number;
  faults: number;
  ok: number;
  byCode: Record<string, number>;
  /** Most accepted requests seen in any sliding second. */
  maxPerSecond: number;
  firstAcceptedAt?: number;
  lastAcceptedAt?: number;
}

/** The twin's counters of what it received and answered; tests read them to check a client's pacing. */
export interface StatsRecorder {
  /** A copy, so a caller's snapshot does not move with later requests. */
  snapshot(): TwinStats;
  reset(): void;
  received(): void;
  throttled(): void;
  /** An admitted request at `at` (performance.now()), with `inWindow` requests now in its sliding second. */
  accepted(at: number, inWindow: number): void;
  fault(): void;
  answered(code: string): void;
}

function emptyStats(): TwinStats {
  return { received: 0, accepted: 0, throttled: 0, faults: 0, ok: 0, byCode: {}, maxPerSecond: 0 };
}

export function createStats(): StatsRecorder {
  let stats = emptyStats();
  return {
    snapshot: () => structuredClone(stats),
    reset: () => {
      stats = emptyStats();
    },
    received: () => {
      stats.received += 1;
    },
    throttled: () => {
      stats.throttled += 1;
    },
    accepted(at, inWindow) {
      stats.accepted += 1;
      stats.maxPerSecond = Math.max(stats.maxPerSecond, inWindow);
      stats.firstAcceptedAt ??= at;
      stats.lastAcceptedAt = at;
    },
    fault: () => {
      stats.faults += 1;
    },
    answered(code) {
      stats.byCode[code] = (stats.byCode[code] ?? 0) + 1;
      if (code === 'OK') stats.ok += 1;
    },
  };
}
