import type { TencentClient } from '#lib/tencent/client.ts';
import { collect, type CollectOptions } from './collect.ts';
import type { Query } from './query.ts';
import type { StatusRecord } from './record.ts';

/** Where one part of the window was answered from, and whether that part is known to be whole. */
export interface Source {
  source: 'tencent' | 'lake';
  beginTime: number;
  endTime: number;
  complete: boolean;
}

/** The 200 body of the HTTP API, and the result of a direct invocation. */
export interface LookupResult {
  phoneNumber: string;
  beginTime: number;
  endTime: number;
  complete: boolean;
  statuses: StatusRecord[];
  requestIds: string[];
  /** One entry per part of the window answered, oldest first (lib/status/history.ts). */
  sources: Source[];
}

/** The window from Tencent alone; with a serialNo, only that receipt is kept (filtered after the pull). */
export async function lookup(client: TencentClient, query: Query, options?: CollectOptions): Promise<LookupResult> {
  const result = await collect(client, query, options);
  const { phoneNumber, beginTime, endTime, serialNo } = query;
  return {
    phoneNumber,
    beginTime,
    endTime,
    complete: result.complete,
    statuses: serialNo === undefined ? result.records : result.records.filter((record) => record.serialNo === serialNo),
    requestIds: result.requestIds,
    sources: [{ source: 'tencent', beginTime, endTime, complete: result.complete }],
  };
}
