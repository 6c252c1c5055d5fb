import type { TencentClient } from '#lib/tencent/client.ts';
import { collect, type CollectOptions } from './collect.ts';
import type { Query } from './query.ts';
import type { StatusRecord } from './record.ts';

/** The 200 body of the HTTP API, and the result of a direct invocation. */
export interface LookupResult {
  phoneNumber: string;
  beginTime: number;
  endTime: number;
  complete: boolean;
  statuses: StatusRecord[];
  requestIds: string[];
}

export async function lookup(client: TencentClient, query: Query, options?: CollectOptions): Promise<LookupResult> {
  const result = await collect(client, query, options);
  return {
    phoneNumber: query.phoneNumber,
    beginTime: query.beginTime,
    endTime: query.endTime,
    complete: result.complete,
    statuses: result.records,
    requestIds: result.requestIds,
  };
}
