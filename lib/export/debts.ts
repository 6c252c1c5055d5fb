import { oldestDefaultBegin } from '#lib/status/query.ts';
import { dayWindow } from './pending.ts';
import type { Ledger } from '#lib/lake/ledger.ts';
import type { DebtPaid, PendingWindow } from './types.ts';

export interface OwedRebuilds {
  debts: DebtPaid[];
  /** The windows a group owes for them: every number of the job in the group, and every number read from the object. */
  byGroup: Map<number, PendingWindow[]>;
}

/**
 * What the lake's ledger says this job owes when a run is planned: for each rebuilt day object of one of
 * its groups that it has not paid since it was found, that UTC day again, for as much of it as Tencent
 * still holds (the rest is a reported loss).
 */
export function owedRebuilds(ledger: Ledger, jobId: string, numbers: Map<number, string[]>, runId: string, nowSeconds: number): OwedRebuilds {
  const owed: OwedRebuilds = { debts: [], byGroup: new Map() };
  const oldest = oldestDefaultBegin(nowSeconds);
  for (const debt of ledger.rebuilds) {
    const own = numbers.get(debt.group);
    if (!own || debt.paid[jobId] !== undefined) continue;
    const day = dayWindow(debt.day, nowSeconds);
    const window = { beginTime: Math.max(day.beginTime, oldest), endTime: day.endTime };
    owed.debts.push({ key: debt.key, group: debt.group, foundAt: debt.foundAt, lost: day.beginTime < oldest });
    if (window.endTime < window.beginTime) continue;
    const windows = [...new Set([...own, ...debt.numbersRead])].map((phoneNumber) => ({ phoneNumber, ...window, runs: 0, reason: 'Rebuild', runId }));
    owed.byGroup.set(debt.group, [...(owed.byGroup.get(debt.group) ?? []), ...windows]);
  }
  return owed;
}
