/**
 * The stand-in's /_eventbridge/ routes, for tests in another process and for people (curl):
 *
 * - `GET /_eventbridge/events[?since=<seq>]` → `{"total", "next", "events": [{seq, bus, event}]}`: the
 *   kept events numbered above `since`, oldest first, and how many were accepted in all; pass `next` as
 *   `since` to read only newer ones.
 * - `GET /_eventbridge/stats` → the counters (stats.ts).
 * - `GET /_eventbridge/settings` → the settings in force.
 * - `POST /_eventbridge/configure` with a JSON object of fault settings (faults.ts: `down`,
 *   `callThrottleRate`, `entryFailureRate`, `entryFailureCode`, `seed`) → the settings in force, or 400
 *   naming the field that is wrong.
 */
import type { ServerResponse } from 'node:http';
import type { StoredEvent } from './event-log.ts';
import { FAULT_FIELDS, faultPatchProblem, type FaultPatch } from './faults.ts';
import type { EventBridgeStats } from './stats.ts';

/** What the routes reach of a running stand-in. */
export interface ControlTarget {
  events(since?: number): StoredEvent[];
  stats(): EventBridgeStats;
  settings(): object;
  configure(patch: FaultPatch): void;
}

type Json = (value: unknown, status?: number) => void;
type Route = (target: ControlTarget, url: URL, body: Buffer, json: Json) => void;

const events: Route = (target, url, _body, json) => {
  const raw = url.searchParams.get('since');
  const since = raw === null ? undefined : Number(raw);
  if (since !== undefined && !(raw !== '' && Number.isSafeInteger(since) && since >= 0)) {
    return json({ error: 'since must be a whole number of events (the seq of the last event read)' }, 400);
  }
  const kept = target.events(since);
  json({ total: target.stats().entriesAccepted, next: kept.at(-1)?.seq ?? since ?? 0, events: kept });
};

const configure: Route = (target, _url, body, json) => {
  const usage = `{${FAULT_FIELDS.map((field) => `"${field}"?`).join(', ')}}`;
  let patch: unknown;
  try {
    patch = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return json({ error: `the body must be JSON: ${usage}` }, 400);
  }
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    return json({ error: `the body must be a JSON object: ${usage}` }, 400);
  }
  const problem = faultPatchProblem(patch as Record<string, unknown>);
  if (problem) return json({ error: problem }, 400);
  target.configure(patch as FaultPatch);
  json(target.settings());
};

const ROUTES: Record<string, { method: 'GET' | 'POST'; route: Route }> = {
  '/_eventbridge/events': { method: 'GET', route: events },
  '/_eventbridge/stats': { method: 'GET', route: (target, _url, _body, json) => json(target.stats()) },
  '/_eventbridge/settings': { method: 'GET', route: (target, _url, _body, json) => json(target.settings()) },
  '/_eventbridge/configure': { method: 'POST', route: configure },
};

export function handleControl(
  target: ControlTarget,
  url: URL,
  method: string | undefined,
  body: Buffer,
  res: ServerResponse,
): void {
  const json: Json = (value, status = 200) => {
    const text = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const found = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : undefined;
  if (!found) return json({ error: `unknown control path; there are ${Object.keys(ROUTES).join(', ')}` }, 404);
  if (method !== found.method) return json({ error: `${found.method} ${url.pathname}` }, 405);
  found.route(target, url, body, json);
}
