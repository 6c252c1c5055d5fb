import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { TwinError } from './rules.ts';
import type { StatsRecorder } from './stats.ts';

/** Writes a Tencent API answer, `{"Response": {..., "RequestId"}}`, counting it by its error code (OK without one). */
export function respond(res: http.ServerResponse, stats: StatsRecorder, response: Record<string, unknown>): void {
  const code = (response.Error as { Code?: string } | undefined)?.Code ?? 'OK';
  stats.answered(code);
  const body = JSON.stringify({ Response: { ...response, RequestId: randomUUID() } });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Tencent reports errors with HTTP 200 and an `Error` in the response, never with an HTTP status. */
export function respondError(res: http.ServerResponse, stats: StatsRecorder, error: TwinError): void {
  respond(res, stats, { Error: { Code: error.code, Message: error.message } });
}
