import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleControl, type ControlTarget } from './control-routes.ts';
import type { SmsApi } from './sms-api.ts';
import type { StatsRecorder } from './stats.ts';
import { respondError } from './tencent-response.ts';

const MAX_BODY_BYTES = 64 * 1024;

export interface TwinServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens for the SMS API and the /_twin/ control routes. Bodies beyond MAX_BODY_BYTES are cut there: the
 * API refuses them as Tencent does, without counting them as received.
 */
export async function listen(
  api: SmsApi,
  control: ControlTarget,
  stats: StatsRecorder,
  address: { port?: number; host?: string },
): Promise<TwinServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://twin');
      if (url.pathname.startsWith('/_twin/')) return handleControl(control, url, body, res);
      if (size > MAX_BODY_BYTES)
        return respondError(res, stats, {
          code: 'RequestSizeLimitExceeded',
          message: 'The request body is too large.',
        });
      api.handle(req, res, body);
    });
  });
  const host = address.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
