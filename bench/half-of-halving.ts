import { halving } from './fixtures/halving.ts';
import { DEMO_NUMBERS, generate } from '../local/twin/data.ts';
import { fakeTencentApi, type AnswerOrder } from '../test/support/fake-tencent.ts';
import { collect } from '#lib/status/collect.ts';
import { adaptiveSplit, type Splitter } from '#lib/status/split.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';

const ORDERS: AnswerOrder[] = ['shuffled', 'ascending', 'descending'];
const SPAN = 7 * 86_400 - 600;

export interface HalvingRow {
  /** Requests halving needed. */
  halving: number;
  draws: number;
  /** Per order, then all three: draws where the adaptive splitter needed at most half of halving. */
  withinHalf: number[];
  adaptiveMean: number[];
}

async function requests(
  records: PullSmsSendStatus[],
  order: AnswerOrder,
  split: Splitter,
  end: number,
  seed: number,
): Promise<number> {
  const api = fakeTencentApi({ receipts: () => records, order, seed });
  const result = await collect(
    api,
    { phoneNumber: '+8613300133000', beginTime: end - SPAN, endTime: end, limit: 100, all: true },
    { maxRequests: 10_000, concurrency: 4, split },
  );
  if (!result.complete) throw new Error('a pull of the benchmark came back incomplete');
  return api.calls.length;
}

/**
 * The twin's "700 over 6 days" profile over `draws` receive-time draws (other anchors), 7-day window:
 * what halving needs varies with the draw, so "at most half of halving" is grouped by it.
 */
export async function halfOfHalving(draws: number): Promise<HalvingRow[]> {
  const rows = new Map<number, { draws: number; within: number[]; sums: number[] }>();
  for (let draw = 0; draw < draws; draw++) {
    const anchor = 1_800_000_000 + draw * 7919;
    const records = generate('+8613300133000', DEMO_NUMBERS['+8613300133000'] as never, anchor).sort(
      (a, b) => (a.UserReceiveTime as number) - (b.UserReceiveTime as number),
    );
    const halved = await requests(records, 'shuffled', halving, anchor, draw);
    const adaptive = await Promise.all(ORDERS.map((order) => requests(records, order, adaptiveSplit, anchor, draw)));
    const row = rows.get(halved) ?? { draws: 0, within: [0, 0, 0, 0], sums: [0, 0, 0] };
    row.draws += 1;
    adaptive.forEach((n, i) => {
      row.within[i] = (row.within[i] as number) + (n <= halved / 2 ? 1 : 0);
      row.sums[i] = (row.sums[i] as number) + n;
    });
    row.within[3] = (row.within[3] as number) + (adaptive.every((n) => n <= halved / 2) ? 1 : 0);
    rows.set(halved, row);
  }
  return [...rows]
    .sort(([a], [b]) => a - b)
    .map(([h, row]) => ({
      halving: h,
      draws: row.draws,
      withinHalf: row.within,
      adaptiveMean: row.sums.map((s) => s / row.draws),
    }));
}
