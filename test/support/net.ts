import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1, port 0 (a free port), and resolves the port. */
export async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server, dropping any kept-alive connections first. */
export function close(server: net.Server): Promise<void> {
  if (server instanceof http.Server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port that was free a moment ago and on which nothing listens now. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

/** Unix seconds of a clock in milliseconds. */
export function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** Runs `fn`, which must reject, and returns what it rejected with. */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got a result');
}
