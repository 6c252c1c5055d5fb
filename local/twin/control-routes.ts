import type http from 'node:http';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import type { TwinPatch, TwinSettings } from './options.ts';
import { PATCH_FIELDS, patchProblem } from './patch-checks.ts';
import { PUSH_FIELDS, pushProblem, type PushOptions } from './push-options.ts';
import type { PushJob } from './push.ts';
import type { TwinStats } from './stats.ts';

/** What the /_twin/ routes reach of a running twin: the same handles a test in-process has. */
export interface ControlTarget {
  now(): number;
  advance(seconds: number): void;
  truth(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[];
  visible(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[];
  stats(): TwinStats;
  resetStats(): void;
  configure(patch: TwinPatch): void;
  settings(): TwinSettings;
  push(options: PushOptions): PushJob;
  lastPush(): PushJob | undefined;
}

type Json = (value: unknown, status?: number) => void;
type Route = (target: ControlTarget, url: URL, body: Buffer, json: Json, method: string) => void;

/** The request body as a JSON object, or undefined once a 400 naming `usage` has been sent. */
function readObject(body: Buffer, usage: string, json: Json): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    json({ error: `the body must be JSON: ${usage}` }, 400);
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    json({ error: `the body must be a JSON object: ${usage}` }, 400);
    return undefined;
  }
  return parsed as Record<string, unknown>;
}

/** phoneNumber, beginTime and endTime (unix seconds, default now) of /_twin/truth and /_twin/visible, or what is wrong. */
function receiptQuery(query: URLSearchParams, nowMs: number): [string, number, number] | string {
  const endTime = query.get('endTime');
  const begin = Number(query.get('beginTime') ?? 0);
  const end = endTime === null ? nowMs / 1000 : Number(endTime);
  if (!Number.isFinite(begin)) return 'beginTime must be unix seconds';
  if (!Number.isFinite(end)) return 'endTime must be unix seconds';
  return [query.get('phoneNumber') ?? '', begin, end];
}

const receipts: Route = (target, url, _body, json) => {
  const query = receiptQuery(url.searchParams, target.now());
  if (typeof query === 'string') return json({ error: query }, 400);
  json(url.pathname === '/_twin/truth' ? target.truth(...query) : target.visible(...query));
};

const configure: Route = (target, _url, body, json) => {
  const patch = readObject(body, `{${PATCH_FIELDS.map((f) => `"${f}"?`).join(', ')}}`, json);
  if (!patch) return;
  const problem = patchProblem(patch);
  if (problem) return json({ error: problem }, 400);
  // JSON has no undefined: null turns lateReports or hold off.
  for (const key of ['lateReports', 'hold'] as const) if (patch[key] === null) patch[key] = undefined;
  target.configure(patch as TwinPatch);
  json(target.settings());
};

const advance: Route = (target, _url, body, json) => {
  const request = readObject(body, '{"seconds": number}', json);
  if (!request) return;
  const { seconds } = request;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    return json({ error: 'seconds must be a finite number of seconds to move the clock by' }, 400);
  }
  target.advance(seconds);
  json({ now: target.now() });
};

/** GET: the latest push's stats; POST: start one (202), unless one still runs (409); DELETE: stop it. */
const push: Route = (target, _url, body, json, method) => {
  const job = target.lastPush();
  if (method === 'GET' || method === 'DELETE') {
    if (!job) return json({ error: 'no push has been started: POST /_twin/push {"url": …}' }, 404);
    if (method === 'DELETE') job.stop();
    return json(job.stats());
  }
  if (method !== 'POST') return json({ error: 'GET, POST or DELETE /_twin/push' }, 405);
  const options = readObject(
    body,
    `{"url", ${PUSH_FIELDS.filter((f) => f !== 'url')
      .map((f) => `"${f}"?`)
      .join(', ')}}`,
    json,
  );
  if (!options) return;
  const problem = pushProblem(options);
  if (problem) return json({ error: problem }, 400);
  const running = job?.stats();
  // Two pushes at once would interleave on the receiver and break the pacing each one promises.
  if (running && !running.done && !running.stopped)
    return json({ error: 'a push is running: DELETE /_twin/push first', push: running }, 409);
  json(target.push(options as unknown as PushOptions).stats(), 202);
};

const ROUTES: Record<string, Route> = {
  '/_twin/stats': (target, _url, _body, json) => json(target.stats()),
  '/_twin/settings': (target, _url, _body, json) => json(target.settings()),
  '/_twin/reset': (target, _url, _body, json) => {
    target.resetStats();
    json(target.stats());
  },
  '/_twin/truth': receipts,
  '/_twin/visible': receipts,
  '/_twin/configure': configure,
  '/_twin/advance': advance,
  '/_twin/push': push,
};

/** Serves a /_twin/ control request: any method (but /_twin/push, where it says what to do), a JSON body where the route takes one. */
export function handleControl(target: ControlTarget, url: URL, body: Buffer, res: http.ServerResponse): void {
  const json: Json = (value, status = 200) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const route = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : undefined;
  if (!route) return json({ error: 'unknown twin control path' }, 404);
  route(target, url, body, json, res.req.method ?? 'GET');
}
