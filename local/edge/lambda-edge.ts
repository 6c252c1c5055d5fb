import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { bodyOf, endToEnd, sendAs, startForwarding, type ForwardingServer } from './forward.ts';

/**
 * In front of serverless-offline's Lambda API: a function's error is reported under its own name, as
 * the Lambda runtime reports `error.name` (InvalidInput, RateLimited, …, what Step Functions' Retry and
 * Catch match). serverless-offline 13 sends every `errorType` as "Error" (src/lambda/routes/invocations/
 * InvocationsController.js) but keeps the stack, whose first line is `<name>: <message>`.
 */
export type LambdaEdge = ForwardingServer;

interface InvokeError {
  errorType?: unknown;
  errorMessage?: unknown;
  trace?: unknown;
}

/** The error's name from the first line of its stack, when that line is `<name>: <errorMessage>`. */
export function namedError(payload: InvokeError): InvokeError {
  const first = Array.isArray(payload.trace) ? payload.trace[0] : undefined;
  const { errorType, errorMessage } = payload;
  if (errorType !== 'Error' || typeof first !== 'string' || typeof errorMessage !== 'string') return payload;
  const suffix = `: ${errorMessage}`;
  const name = first.endsWith(suffix) ? first.slice(0, -suffix.length) : '';
  return /^\w+$/.test(name) ? { ...payload, errorType: name } : payload;
}

async function relay(upstream: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!upstream.headers['x-amz-function-error']) {
    res.writeHead(upstream.statusCode ?? 502, endToEnd(upstream.headers));
    return void upstream.pipe(res);
  }
  const body = await bodyOf(upstream);
  let payload: InvokeError;
  try {
    payload = JSON.parse(body.toString()) as InvokeError;
  } catch {
    return sendAs(upstream, res, body);
  }
  sendAs(upstream, res, Buffer.from(JSON.stringify(namedError(payload))));
}

export function startLambdaEdge(port: number, target: string): Promise<LambdaEdge> {
  // Uncompressed answers, so an error's payload can be read and renamed.
  const headers = (h: OutgoingHttpHeaders): OutgoingHttpHeaders => ({ ...h, 'accept-encoding': 'identity' });
  return startForwarding({ port, target, relay, headers });
}
