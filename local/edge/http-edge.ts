import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyOf, endToEnd, sendAs, startForwarding, type ForwardingServer } from './forward.ts';
import type { EdgeDefinition, GatewayAnswer, ResponseType } from './gateway-responses.ts';
import { UsagePlanThrottle } from './usage-plan-throttle.ts';

/**
 * The local stand-in for API Gateway's own answers, in front of serverless-offline's HTTP port: a
 * missing or wrong key and an unknown route answer as resources/edge.yml makes the deployed API answer
 * (serverless-offline's are `{"message":"Forbidden"}` and its own 404), and with `throttle` the usage
 * plan's rate answers 429. Everything else passes through untouched.
 */
export interface HttpEdgeOptions {
  port: number;
  /** serverless-offline's HTTP URL. */
  target: string;
  apiKey: string;
  definition: EdgeDefinition;
  /** Enforce the usage plan's throttle on requests carrying the key, as API Gateway does. */
  throttle?: boolean;
}

export type HttpEdge = ForwardingServer;

/** How serverless-offline marks its own answers (node_modules/serverless-offline/src/events/http/HttpServer.js). */
const OFFLINE_FORBIDDEN = 'ForbiddenException';
const OFFLINE_NOT_FOUND = 'Serverless-offline: route not found.';

type Answer = (type: ResponseType) => GatewayAnswer;

function send(res: ServerResponse, answer: GatewayAnswer): void {
  const length = Buffer.byteLength(answer.body);
  const headers = { ...answer.headers, 'Content-Length': length, 'x-amzn-RequestId': answer.requestId };
  res.writeHead(answer.statusCode, headers);
  res.end(answer.body);
}

function isOfflineNotFound(body: Buffer): boolean {
  try {
    return (JSON.parse(body.toString()) as { error?: unknown }).error === OFFLINE_NOT_FOUND;
  } catch {
    return false;
  }
}

/** serverless-offline's answer, or API Gateway's in its place. */
async function relay(upstream: IncomingMessage, res: ServerResponse, answer: Answer): Promise<void> {
  const status = upstream.statusCode ?? 502;
  if (status === 403 && upstream.headers['x-amzn-errortype'] === OFFLINE_FORBIDDEN) {
    upstream.resume();
    return send(res, answer('INVALID_API_KEY'));
  }
  if (status === 404) {
    const body = await bodyOf(upstream);
    return isOfflineNotFound(body) ? send(res, answer('MISSING_AUTHENTICATION_TOKEN')) : sendAs(upstream, res, body);
  }
  res.writeHead(status, endToEnd(upstream.headers));
  upstream.pipe(res);
}

export function startHttpEdge(options: HttpEdgeOptions): Promise<HttpEdge> {
  const { rateLimit, burstLimit } = options.definition.throttle;
  const plan = options.throttle ? new UsagePlanThrottle(rateLimit, burstLimit) : undefined;
  const answer: Answer = (type) => options.definition.answer(type, randomUUID());
  return startForwarding({
    port: options.port,
    target: options.target,
    intercept: (req, res) => {
      if (!plan || req.headers['x-api-key'] !== options.apiKey || plan.admit()) return false;
      send(res, answer('THROTTLED'));
      return true;
    },
    relay: (upstream, res) => relay(upstream, res, answer),
  });
}
