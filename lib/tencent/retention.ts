import type { PullPage, PullRequest, TencentClient } from './client.ts';
import { UpstreamUnavailable, isSmsStatusError } from '#lib/errors.ts';
import { MAX_LOOKBACK_SECONDS } from './types.ts';

/** Room for clock skew between us and Tencent, and for the request's time on the wire. */
export const RETENTION_MARGIN_SECONDS = 300;
const MAX_EXTRA_MARGIN_SECONDS = 3600;

/** The oldest BeginTime Tencent accepts at `nowMs`, less our margin. */
export function retentionEdge(nowMs: number, marginSeconds = RETENTION_MARGIN_SECONDS): number {
  return Math.floor(nowMs / 1000) - MAX_LOOKBACK_SECONDS + marginSeconds;
}

/**
 * Tencent refuses a BeginTime older than 7 days, judged when the request arrives. A window chosen
 * minutes or hours earlier (a long export, a resumed run) may have aged past that edge since: each
 * request's BeginTime is moved up to the edge at the moment it is sent, and the page says so in
 * `servedFrom`, so the caller can report what fell past the edge as a gap. A window wholly past the
 * edge is answered empty without a request. Should Tencent still refuse at the edge (our clock
 * behind theirs), the margin widens and the error is a transient one, never invalid input.
 */
export function retentionClamped(client: TencentClient, now: () => number): TencentClient {
  let extraMargin = 0;
  return {
    async pull(request: PullRequest): Promise<PullPage> {
      const edge = retentionEdge(now(), RETENTION_MARGIN_SECONDS + extraMargin);
      if (request.endTime < edge) return { statuses: [], requestId: '', servedFrom: request.endTime + 1 };
      const beginTime = Math.max(request.beginTime, edge);
      try {
        const page = await client.pull({ ...request, beginTime });
        return beginTime > request.beginTime ? { ...page, servedFrom: beginTime } : page;
      } catch (error) {
        if (!isSmsStatusError(error) || error.code !== 'InvalidParameterValue.BeginTimeVerifyFail') throw error;
        if (beginTime > edge + RETENTION_MARGIN_SECONDS) throw error;
        extraMargin = Math.min(MAX_EXTRA_MARGIN_SECONDS, extraMargin + RETENTION_MARGIN_SECONDS);
        throw new UpstreamUnavailable(
          `BeginTime ${beginTime} reached Tencent's 7-day edge (clock skew?); retried further inside it`,
          {
            code: error.code,
            requestId: error.requestId,
          },
        );
      }
    },
  };
}
