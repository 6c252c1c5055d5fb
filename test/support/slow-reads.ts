import http from 'node:http';
import { close, listen } from './net.ts';

export interface SlowReads {
  url: string;
  close(): Promise<void>;
}

/**
 * A proxy in front of a local S3 that holds every object GET's answer back for `delayMs`: the time
 * between a writer's read and its write grows, so two writers racing for one object always overlap.
 */
export async function slowReads(upstream: string, delayMs: number): Promise<SlowReads> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const outgoing = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        const relay = (): void => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        };
        if (req.method === 'GET') setTimeout(relay, delayMs);
        else relay();
      },
    );
    outgoing.on('error', () => res.destroy());
    req.pipe(outgoing);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await close(server);
      agent.destroy();
    },
  };
}
