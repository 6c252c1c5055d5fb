import type { CallbackReceipt } from './push-format.ts';

const SHOWN_CHARS = 120;

/**
 * Tencent documents one acknowledgement: HTTP 200 with `{"result": 0, ...}`. Anything else (another
 * status, a body that is not JSON, any other `result`) means the receiver did not store the batch.
 */
function refusal(status: number, text: string): string | undefined {
  const shown = JSON.stringify(text.slice(0, SHOWN_CHARS));
  if (status !== 200) return `HTTP ${status}: ${shown}`;
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return `the answer is not JSON: ${shown}`;
  }
  const result = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>).result : undefined;
  return result === 0 ? undefined : `the answer's result is ${JSON.stringify(result) ?? 'missing'}: ${shown}`;
}

/** Why a request failed to complete: a timeout, a stop, or the connection's own error code. */
function failure(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string }).name;
  if (name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (name === 'AbortError') return 'stopped';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return `connection failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`;
}

/**
 * POSTs one batch as Tencent does (a JSON array, UTF-8, no signature), and answers undefined when the
 * receiver acknowledged it, or why not. `stop` aborts the request at once.
 */
export async function sendBatch(
  url: string,
  batch: CallbackReceipt[],
  timeoutMs: number,
  stop: AbortSignal,
): Promise<string | undefined> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify(batch),
      // The timeout covers reading the answer too: a receiver that stalls mid-body is as unhelpful as a silent one.
      signal: AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]),
    });
    return refusal(res.status, await res.text());
  } catch (error) {
    return failure(error, timeoutMs);
  }
}
