import type { TencentClient } from '#lib/tencent/client.ts';
import type { CollectOptions } from './collect.ts';
import { history } from './history.ts';
import type { Lake } from './lake-part.ts';
import type { LookupResult } from './lookup.ts';
import { pageOf, type PageLimits } from './page.ts';
import { checkSameQuery, decodeToken, encodeToken, type PageToken } from './page-token.ts';
import { parseQuery, present, type RawQuery } from './query.ts';

/** What a paged lookup runs with, built once per container (or CLI run). */
export interface LookupDeps {
  client: TencentClient;
  /** Past Tencent's 7 days (and when Tencent is down) the lake answers; none without EXPORT_BUCKET. */
  lake?: Lake & { retentionDays: number };
  limits: PageLimits;
  /** Signs and checks nextTokens (pageTokenKey). */
  tokenKey: Buffer;
}

export interface LookupRun {
  collect: CollectOptions;
  /** Tencent down, lake up: the lake answers while this says there is time (HTTP and CLI; direct invocations throw). */
  degrade?: () => boolean;
  nowMs?: number;
}

/**
 * One answer to a lookup: validated, looked up over Tencent and the lake, and cut to one page when the
 * window holds more than an answer may (all=true); `nextToken` then continues it. A token is checked
 * before anything is sent, and fills in the window it was issued for when the request leaves it out.
 */
export async function lookupPage(deps: LookupDeps, raw: RawQuery, run: LookupRun): Promise<LookupResult> {
  const nowMs = run.nowMs ?? Date.now();
  const nowSeconds = Math.floor(nowMs / 1000);
  const nextToken = typeof raw === 'object' && raw !== null ? raw.nextToken : undefined;
  const token = present(nextToken) ? decodeToken(nextToken, deps.tokenKey, nowSeconds) : undefined;
  const query = parseQuery(token ? withTokenWindow(raw, token) : raw, nowSeconds, {
    lakeRetentionDays: deps.lake?.retentionDays,
    continuing: token !== undefined,
  });
  if (token) checkSameQuery(token, query);
  const paged = query.all && query.serialNo === undefined;
  const answer = await history(deps.client, deps.lake, query, {
    collect: run.collect,
    now: () => nowMs,
    after: token?.after,
    degrade: run.degrade,
    ...(paged && { lakeCap: deps.limits.maxRecords + 1 }),
  });
  if (!paged) return answer.result;
  const page = pageOf(answer, deps.limits);
  if (!page.next) return page.result;
  const next: PageToken = {
    phoneNumber: query.phoneNumber,
    beginTime: query.beginTime,
    endTime: query.endTime,
    after: page.next,
    issuedAt: nowSeconds,
  };
  return { ...page.result, nextToken: encodeToken(next, deps.tokenKey) };
}

/** The window a token was issued for, where the request gives none (a default `endTime` of now would move). */
function withTokenWindow(raw: RawQuery, token: PageToken): RawQuery {
  return {
    ...raw,
    beginTime: present(raw.beginTime) ? raw.beginTime : token.beginTime,
    endTime: present(raw.endTime) ? raw.endTime : token.endTime,
  };
}
