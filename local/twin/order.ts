import type { PullSmsSendStatus } from '#lib/tencent/types.ts';

/**
 * The order of the records the API answers, by UserReceiveTime (ties by SerialNo). Real Tencent's is
 * undocumented and it returns at most `Limit` records, so a client must cope with each: the oldest
 * `Limit`, the newest `Limit`, or any `Limit` of them.
 */
export type TwinOrder = 'shuffled' | 'ascending' | 'descending';
export const TWIN_ORDERS: readonly TwinOrder[] = ['shuffled', 'ascending', 'descending'];

/** The matching receipts in `order`: the page is the first `Limit` of them. */
export function ordered(list: PullSmsSendStatus[], order: TwinOrder, random: () => number): PullSmsSendStatus[] {
  if (order === 'shuffled') return shuffle(list, random);
  const ascending = [...list].sort(byTimeThenSerial);
  return order === 'ascending' ? ascending : ascending.reverse();
}

function shuffle<T>(list: T[], random: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Ties broken by SerialNo, so a sorted page cut inside one second is the same on every request. */
function byTimeThenSerial(a: PullSmsSendStatus, b: PullSmsSendStatus): number {
  const [x, y] = [a.SerialNo as string, b.SerialNo as string];
  return (a.UserReceiveTime as number) - (b.UserReceiveTime as number) || (x < y ? -1 : x > y ? 1 : 0);
}
