import { oldestDefaultBegin } from '#lib/status/query.ts';
import { dayWindow, OWED } from './owed.ts';
import { owes, type Ledger } from '#lib/lake/ledger.ts';
import type { RebuildOwed, OwedWindow } from './types.ts';

export interface OwedRebuilds {
  rebuilds: RebuildOwed[];
  /** The windows a group owes for them: every number of the job in the group, and every number read from the object. */
  byGroup: Map<number, OwedWindow[]>;
}

/**
 * What the lake's ledger says this job owes when a run is planned: for each rebuilt day object of one of
 * its groups that it has not paid since it was found, that UTC day again, for as much of it as Tencent
 * still holds (the rest is a reported loss). A job planned after the rebuild owes none of it.
 */
export function owedRebuilds(
  ledger: Ledger,
  jobId: string,
  numbers: Map<number, string[]>,
  runId: string,
  nowSeconds: number,
): OwedRebuilds {
  const owed: OwedRebuilds = { rebuilds: [], byGroup: new Map() };
  const oldest = oldestDefaultBegin(nowSeconds);
  for (const rebuild of ledger.rebuilds) {
    const own = numbers.get(rebuild.group);
    if (!own || !owes(rebuild, jobId) || rebuild.paid[jobId] !== undefined) continue;
    const day = dayWindow(rebuild.day, nowSeconds);
    const window = { beginTime: Math.max(day.beginTime, oldest), endTime: day.endTime };
    owed.rebuilds.push({
      key: rebuild.key,
      group: rebuild.group,
      foundAt: rebuild.foundAt,
      lost: day.beginTime < oldest,
    });
    if (window.endTime < window.beginTime) continue;
    const windows = [...new Set([...own, ...rebuild.numbersRead])].map((phoneNumber) => ({
      phoneNumber,
      ...window,
      runs: 0,
      reason: OWED.rebuild,
      runId,
    }));
    owed.byGroup.set(rebuild.group, [...(owed.byGroup.get(rebuild.group) ?? []), ...windows]);
  }
  return owed;
}
