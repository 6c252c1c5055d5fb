import type { Quarantined } from '#lib/lake/merge.ts';
import { isStuck, isTransient, failingName } from './owed.ts';
import type { PullOutcome } from './pull-numbers.ts';
import type { GroupProgress } from './run-store.ts';
import { capped, emptyTotals, addTotals, type RunTotals } from './totals.ts';
import type { Failure, OwedWindow } from './types.ts';

/**
 * One group's ledger for a run, kept in its progress: what it pulled and wrote (`add`), what it still owes
 * (`owe`), what Tencent refused (`fail`), and the corrupt objects it met. Saved by the run store after
 * each chunk, so an invocation that resumes the group resumes its books too.
 */
export class GroupLedger {
  readonly progress: GroupProgress;

  constructor(progress: GroupProgress) {
    this.progress = progress;
  }

  get totals(): RunTotals {
    return this.progress.totals;
  }

  /** A chunk's outcomes; `retried`: a pass over numbers already counted (their windows that kept failing). */
  add(outcomes: PullOutcome[], { retried = false } = {}): void {
    const totals = this.totals;
    for (const o of outcomes) {
      if (o.work.listed && !retried) totals.numbersDone += 1;
      totals.records += o.records.length;
      for (const record of o.records)
        totals.recordsByStatus[record.reportStatus] = (totals.recordsByStatus[record.reportStatus] ?? 0) + 1;
      this.owe(o.owed);
      if (o.failure) this.fail(o.failure);
      if (o.incomplete) this.#note('incompleteCount', 'incompleteNumbers', o.work.phoneNumber);
      if (o.gapSeconds > 0) {
        totals.retentionGapSeconds += o.gapSeconds;
        this.#note('gapCount', 'gapNumbers', o.work.phoneNumber);
      }
    }
  }

  owe(windows: OwedWindow[]): void {
    this.progress.owed.push(...windows);
  }

  fail(failure: Failure): void {
    this.totals.failureCount += 1;
    this.totals.failures = capped(this.totals.failures, [failure]);
  }

  /** A corrupt day object met and rebuilt (the lake's ledger owes its day): named once. */
  corrupt(quarantined: Quarantined): void {
    if (!this.totals.corruptObjects.some((c) => c.key === quarantined.key))
      this.totals.corruptObjects = capped(this.totals.corruptObjects, [quarantined]);
  }

  #note(count: 'incompleteCount' | 'gapCount', sample: 'incompleteNumbers' | 'gapNumbers', phoneNumber: string): void {
    this.totals[count] += 1;
    this.totals[sample] = capped(this.totals[sample], [phoneNumber]);
  }

  /** The windows this run owes because Tencent kept failing: another pass may pay them. */
  failing(runId: string): OwedWindow[] {
    return this.progress.owed.filter((p) => p.runId === runId && isTransient(p.reason));
  }

  /** Takes `windows` back out of what is owed, for another pass. */
  forgive(windows: OwedWindow[]): void {
    const retried = new Set(windows);
    this.progress.owed = this.progress.owed.filter((p) => !retried.has(p));
  }

  /** The group is done: what it still owes is counted, its stuck numbers named, its failing numbers reported. */
  finish(stuckAfterRuns: number): void {
    addTotals(this.totals, owedTotals(this.progress.owed, stuckAfterRuns));
    this.progress.done = true;
  }
}

/** The counts of what a group owes: windows, stuck numbers, and numbers still failing transiently. */
export function owedTotals(owed: OwedWindow[], stuckAfterRuns: number): RunTotals {
  const totals = emptyTotals();
  const numbers = (list: OwedWindow[]): string[] => [...new Set(list.map((p) => p.phoneNumber))];
  totals.pendingWindows = owed.length;
  const stuck = numbers(owed.filter((p) => isStuck(p, stuckAfterRuns)));
  totals.stuckCount = stuck.length;
  totals.stuckNumbers = capped([], stuck);
  const failing = owed.filter((p) => isTransient(p.reason));
  totals.failureCount = numbers(failing).length;
  const message = 'still failing after retries; owed to the next run';
  totals.failures = capped(
    [],
    failing.map((p) => ({
      phoneNumber: p.phoneNumber,
      kind: 'transient',
      name: failingName(p.reason),
      code: p.reason,
      message,
    })),
  );
  return totals;
}
