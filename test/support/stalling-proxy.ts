import http from 'node:http';
import { close, listen } from './net.ts';

export interface StallingProxy {
  url: string;
  /** Requests held so far. */
  held(): number;
  close(): Promise<void>;
}

/**
 * A proxy in front of a local S3 that holds the requests `stall` picks for `holdMs` before passing them
 * on, as a slow or stalled S3 would; a held request whose client gave up meanwhile never reaches S3.
 */
export async function stallingProxy(
  upstream: string,
  stall: (req: http.IncomingMessage) => boolean,
  holdMs: number,
): Promise<StallingProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const timers = new Set<NodeJS.Timeout>();
  let held = 0;
  const server = http.createServer((req, res) => {
    const forward = (): void => {
      if (req.destroyed || res.destroyed || res.writableEnded) return;
      const outgoing = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      outgoing.on('error', () => res.destroy());
      outgoing.end(Buffer.concat(body));
    };
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      if (!stall(req)) return forward();
      held += 1;
      const timer = setTimeout(() => {
        timers.delete(timer);
        forward();
      }, holdMs);
      timers.add(timer);
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    held: () => held,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await close(server);
      agent.destroy();
    },
  };
}
