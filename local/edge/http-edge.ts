import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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

export interface HttpEdge {
  url: string;
  close(): Promise<void>;
}

/** Connection-level headers: each hop sets its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);
/** How serverless-offline marks its own answers (node_modules/serverless-offline/src/events/http/HttpServer.js). */
const OFFLINE_FORBIDDEN = 'ForbiddenException';
const OFFLINE_NOT_FOUND = 'Serverless-offline: route not found.';

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

function send(res: ServerResponse, answer: GatewayAnswer): void {
  const length = Buffer.byteLength(answer.body);
  const headers = { ...answer.headers, 'Content-Length': length, 'x-amzn-RequestId': answer.requestId };
  res.writeHead(answer.statusCode, headers);
  res.end(answer.body);
}

async function bodyOf(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function isOfflineNotFound(body: Buffer): boolean {
  try {
    return (JSON.parse(body.toString()) as { error?: unknown }).error === OFFLINE_NOT_FOUND;
  } catch {
    return false;
  }
}

/** serverless-offline's answer, or API Gateway's in its place. */
type Answer = (type: ResponseType) => GatewayAnswer;

async function relay(upstream: IncomingMessage, res: ServerResponse, answer: Answer): Promise<void> {
  const status = upstream.statusCode ?? 502;
  if (status === 403 && upstream.headers['x-amzn-errortype'] === OFFLINE_FORBIDDEN) {
    upstream.resume();
    return send(res, answer('INVALID_API_KEY'));
  }
  if (status === 404) {
    const body = await bodyOf(upstream);
    if (isOfflineNotFound(body)) return send(res, answer('MISSING_AUTHENTICATION_TOKEN'));
    res.writeHead(status, endToEnd(upstream.headers));
    return void res.end(body);
  }
  res.writeHead(status, endToEnd(upstream.headers));
  upstream.pipe(res);
}

export async function startHttpEdge(options: HttpEdgeOptions): Promise<HttpEdge> {
  const target = new URL(options.target);
  const agent = new http.Agent({ keepAlive: true });
  const { rateLimit, burstLimit } = options.definition.throttle;
  const plan = options.throttle ? new UsagePlanThrottle(rateLimit, burstLimit) : undefined;
  const answer: Answer = (type) => options.definition.answer(type, randomUUID());
  const server = http.createServer((req, res) => {
    if (plan && req.headers['x-api-key'] === options.apiKey && !plan.admit()) {
      req.resume();
      return send(res, answer('THROTTLED'));
    }
    const headers = endToEnd(req.headers);
    const forwarded = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      (upstream) => void relay(upstream, res, answer).catch(() => res.destroy()),
    );
    forwarded.on('error', () => {
      if (res.headersSent) return void res.destroy();
      const message = `serverless-offline is not answering at ${options.target}`;
      res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'InternalError', message } }));
    });
    req.on('aborted', () => forwarded.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}
