import type { TencentClient } from '#lib/tencent/client.ts';
import { collect, DEFAULT_COLLECT_OPTIONS, type CollectOptions } from './collect.ts';
import type { Query } from './query.ts';
import type { StatusRecord } from '#lib/receipt.ts';

/** Where one part of the window was answered from, and whether that part is known to be whole. */
export interface Source {
  source: 'tencent' | 'lake';
  beginTime: number;
  endTime: number;
  complete: boolean;
  /** Tencent could not answer its part (the lake stood in for it): why. */
  error?: { code: string; message: string };
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
  /** More of the window follows: the same request with this continues right after the last status. */
  nextToken?: string;
}

/** Tencent's part of a lookup: its records, its source entry, and where it stopped proving the window. */
export interface TencentPart {
  records: StatusRecord[];
  source: Source;
  requestIds: string[];
  /** Windows were left unasked (the request cap or the deadline): the earliest second not proven. */
  unreachedFrom?: number;
}

/**
 * The query's window from Tencent alone. With a serialNo, the whole window is searched (as with all)
 * and no new window is asked once the receipt is found; only that receipt is kept.
 */
export async function pullTencent(client: TencentClient, query: Query, options?: CollectOptions): Promise<TencentPart> {
  const { beginTime, endTime, serialNo } = query;
  const bySerial = serialNo !== undefined;
  const result = bySerial
    ? await collect(
        client,
        { ...query, all: true },
        { ...(options ?? DEFAULT_COLLECT_OPTIONS), stopWhen: (r) => r.serialNo === serialNo },
      )
    : await collect(client, query, options);
  const records = bySerial ? result.records.filter((record) => record.serialNo === serialNo) : result.records;
  // Found: the answer is that receipt, whatever of the window was left unasked.
  const complete = result.complete || (bySerial && records.length > 0);
  return {
    records,
    source: { source: 'tencent', beginTime, endTime, complete },
    requestIds: result.requestIds,
    ...(!bySerial && result.unreachedFrom !== undefined && { unreachedFrom: result.unreachedFrom }),
  };
}
