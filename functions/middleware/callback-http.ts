import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DeadlineExceeded, beforeDeadline } from '#lib/deadline.ts';
import { InvalidInput } from '#lib/errors.ts';
import type { ObjectStore } from '#lib/lake/store.ts';
import { logger } from '#lib/observability/logger.ts';
import { metrics, MetricUnit } from '#lib/observability/metrics.ts';
import { MAX_BODY_BYTES, parseCallbackBody, type CallbackParseSettings } from '#lib/push/callback.ts';
import { storeBatch, type InboxLocation } from '#lib/push/inbox.ts';
import type { TokenCheck } from '#lib/push/token.ts';

export interface CallbackDeps {
  store: ObjectStore;
  settings: CallbackParseSettings & InboxLocation;
  checkToken: TokenCheck;
  /** Longest the token check and the inbox write may take together (less when the invocation has less left). */
  deadlineMs?: number;
}

/**
 * The receiver answers by this long after it starts, under the function's 10 s timeout: a slow S3 gets
 * a 503 (Tencent sends again), never the platform's 502/504, which Tencent cannot tell from a lost batch.
 */
export const CALLBACK_DEADLINE_MS = 5000;
/** Kept back from the invocation's time for answering and for the platform's own margin. */
const ANSWER_RESERVE_MS = 2000;

/** Tencent's answer shape: result 0 means stored; anything else makes the sender try again or give up. */
function answer(statusCode: number, result: 0 | 1, errmsg: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    body: JSON.stringify({ result, errmsg }),
  };
}

/** The body as bytes; one too large is refused before it is decoded or parsed. */
function bodyOf(event: APIGatewayProxyEvent): string | Buffer {
  const body = event.body ?? '';
  const limit = event.isBase64Encoded ? Math.ceil(MAX_BODY_BYTES / 3) * 4 : MAX_BODY_BYTES;
  if (body.length > limit)
    throw new InvalidInput(`body is larger than ${MAX_BODY_BYTES} bytes`, {
      field: 'body',
      code: 'RequestSizeLimitExceeded',
    });
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : body;
}

/**
 * A failure as Tencent's answer: the sender's fault is a 400 naming the field, ours a 503 (send again); never a 500.
 */
function failure(error: unknown): APIGatewayProxyResult {
  if (error instanceof InvalidInput) {
    logger.warn('callback refused', { field: error.field, error });
    metrics.addMetric('CallbackRejected', MetricUnit.Count, 1);
    return answer(400, 1, error.detail);
  }
  logger.error('callback not stored', { error });
  metrics.addMetric('CallbackUnavailable', MetricUnit.Count, 1);
  const late = error instanceof DeadlineExceeded;
  return answer(
    503,
    1,
    late
      ? 'the receipts could not be stored in time: send them again'
      : 'the receipts were not stored: send them again',
  );
}

function deadlineOf(deps: CallbackDeps, context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): number {
  const left = context ? context.getRemainingTimeInMillis() - ANSWER_RESERVE_MS : Number.POSITIVE_INFINITY;
  return Math.max(0, Math.min(deps.deadlineMs ?? CALLBACK_DEADLINE_MS, left));
}

/**
 * POST /v1/callbacks/tencent/{token}: the token (constant time), the body (size, then shape), then one
 * inbox object. 200 only once that object is durably in S3; 503 when that did not happen by the deadline.
 */
export function callbackHttp(
  deps: CallbackDeps,
): (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  const receive = async (event: APIGatewayProxyEvent, signal: AbortSignal): Promise<APIGatewayProxyResult> => {
    if (!(await deps.checkToken(event.pathParameters?.token ?? ''))) {
      logger.warn('callback refused: wrong token');
      metrics.addMetric('CallbackForbidden', MetricUnit.Count, 1);
      return answer(403, 1, 'forbidden');
    }
    const records = parseCallbackBody(bodyOf(event), deps.settings);
    const stored = await storeBatch(deps.store, deps.settings, records, signal);
    logger.info('callback stored', { receipts: stored.receipts, created: stored.created, key: stored.key });
    metrics.addMetric('CallbackReceipts', MetricUnit.Count, stored.receipts);
    return answer(200, 0, 'OK');
  };
  return async (event, context) => {
    const signal = AbortSignal.timeout(deadlineOf(deps, context));
    try {
      return await beforeDeadline(receive(event, signal), signal);
    } catch (error) {
      return failure(error);
    }
  };
}
