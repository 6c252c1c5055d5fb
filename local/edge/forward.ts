import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback server in front of one of serverless-offline's ports: each request is passed on as it
 * is, and the answer goes through `relay`, which may send it on or answer in its place.
 */
export interface Forwarder {
  port: number;
  /** serverless-offline's URL behind this one. */
  target: string;
  /** Answers a request itself (true), before it is passed on. */
  intercept?(req: IncomingMessage, res: ServerResponse): boolean;
  relay(upstream: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Request headers changed on the way (e.g. no compression, so an answer can be read). */
  headers?(headers: http.OutgoingHttpHeaders): http.OutgoingHttpHeaders;
}

export interface ForwardingServer {
  url: string;
  close(): Promise<void>;
}

/** Connection-level headers: each hop sets its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

export function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

export async function bodyOf(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The upstream answer as it came, its body already read. */
export function sendAs(upstream: IncomingMessage, res: ServerResponse, body: Buffer): void {
  res.writeHead(upstream.statusCode ?? 502, { ...endToEnd(upstream.headers), 'content-length': body.length });
  res.end(body);
}

export async function startForwarding(forwarder: Forwarder): Promise<ForwardingServer> {
  const target = new URL(forwarder.target);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    if (forwarder.intercept?.(req, res)) return void req.resume();
    const headers = (forwarder.headers ?? ((h) => h))(endToEnd(req.headers));
    const forwarded = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      (upstream) => void forwarder.relay(upstream, res).catch(() => res.destroy()),
    );
    forwarded.on('error', () => {
      if (res.headersSent) return void res.destroy();
      const message = `serverless-offline is not answering at ${forwarder.target}`;
      res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'InternalError', message } }));
    });
    req.on('aborted', () => forwarded.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(forwarder.port, '127.0.0.1', () => resolve());
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
