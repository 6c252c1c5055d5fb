/**
 * Stoplight Prism as a validation proxy (`prism proxy`) in front of the shared local stack: every
 * request and every answer of the HTTP API is checked against docs/openapi.yaml, and what it finds is
 * listed in the `sl-violations` header. The answers must never violate the document. Requests that
 * break the document's own parameter rules are sent on purpose (the API must answer them 400); for
 * those, Prism reports the request, and nothing about the answer. (With `--errors` Prism would answer
 * such a request 422 itself instead of passing it on.)
 *
 * API Gateway's own answers come from gateway responses (resources/edge.yml), which the local edge
 * in front of serverless-offline renders (local/edge/): a missing or wrong key and an unknown route go
 * through Prism too. (The usage plan's 429 is checked in local-edge.test.ts, on an edge that throttles.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/offline.ts';
import { freePorts } from '../support/ports.ts';

const stack = inject('stack');
let prism: ChildProcess;
let proxy: string;
let output = '';

beforeAll(async () => {
  const { port } = await freePorts('port');
  proxy = `http://127.0.0.1:${port}`;
  prism = spawn(
    process.execPath,
    [
      'node_modules/@stoplight/prism-cli/dist/index.js',
      'proxy',
      'docs/openapi.yaml',
      `${stack.httpUrl}/dev`,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  prism.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  prism.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!/listening|Prism is listening/i.test(output)) {
    if (Date.now() > deadline || prism.exitCode !== null) throw new Error(`prism did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 90_000);

afterAll(() => {
  prism?.kill('SIGKILL');
});

const now = Math.floor(Date.now() / 1000);
const REQUESTS: Array<[string, number]> = [
  ['%2B8613711112222/statuses', 200],
  ['+8613711112222/statuses?limit=5', 200],
  [`%2B8613800138000/statuses?all=true&beginTime=${now - 6 * 3600}`, 200],
  [`%2B8613711112222/statuses?beginTime=${now - 20 * 86_400}&endTime=${now}`, 200],
  ['%2B8613711112222/statuses?serialNo=2433%3Anone', 200],
  ['13711112222/statuses', 400],
  ['%2B8613711112222/statuses?limit=101', 400],
  ['%2B8613711112222/statuses?beginTime=yesterday', 400],
  [`%2B8613711112222/statuses?beginTime=${now - 500 * 86_400}`, 400],
  ['%2B8613711112222/statuses?colour=blue', 400],
];

interface Violation {
  location: string[];
  message: string;
}

/** Requests the document itself forbids (a path or query parameter outside its schema). */
const OUTSIDE_THE_DOCUMENT = new Set(['13711112222/statuses', '%2B8613711112222/statuses?limit=101']);

describe('the HTTP API through a Prism validation proxy', () => {
  it.each(REQUESTS)(
    'GET /v1/phone-numbers/%s answers %i, and no answer violates the document',
    async (path, status) => {
      const response = await fetch(`${proxy}/v1/phone-numbers/${path}`, { headers: { 'x-api-key': stack.apiKey } });
      const body = await response.text();
      const violations = JSON.parse(response.headers.get('sl-violations') ?? '[]') as Violation[];
      const ofTheAnswer = violations.filter((v) => v.location[0] !== 'request');
      expect(ofTheAnswer, JSON.stringify(violations)).toEqual([]);
      if (!OUTSIDE_THE_DOCUMENT.has(path)) expect(violations, body).toEqual([]);
      expect(response.status, body).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    },
  );
});

/** Whether Prism reports the request itself (a missing key breaks the document's security rule). */
const ANSWERS_OF_THE_EDGE: Array<[string, string, Record<string, string>, boolean]> = [
  ['no x-api-key', '/v1/phone-numbers/%2B8613711112222/statuses', {}, true],
  ['a wrong x-api-key', '/v1/phone-numbers/%2B8613711112222/statuses', { 'x-api-key': 'local-not-the-key' }, false],
];

describe("API Gateway's own answers through a Prism validation proxy", () => {
  it.each(ANSWERS_OF_THE_EDGE)(
    '%s answers 403 AuthFailure in the error shape, and no answer violates the document',
    async (_, path, headers, outside) => {
      const response = await fetch(`${proxy}${path}`, { headers });
      const body = await response.text();
      const violations = JSON.parse(response.headers.get('sl-violations') ?? '[]') as Violation[];
      expect(
        violations.filter((v) => v.location[0] !== 'request'),
        body,
      ).toEqual([]);
      if (!outside) expect(violations, body).toEqual([]);
      expect(response.status, body).toBe(403);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(body).error).toMatchObject({ code: 'AuthFailure', requestId: expect.any(String) });
    },
  );

  // No path of the document matches, so Prism can only pass it on: the body is checked here instead.
  it.each(['/v1/nothing-here', '/v1/phone-numbers/%2B8613711112222'])(
    'the unknown route %s answers 403 AuthFailure in the error shape',
    async (path) => {
      const response = await fetch(`${proxy}${path}`, { headers: { 'x-api-key': stack.apiKey } });
      const body = await response.text();
      const violations = JSON.parse(response.headers.get('sl-violations') ?? '[]') as Violation[];
      expect(
        violations.filter((v) => v.location[0] !== 'request'),
        body,
      ).toEqual([]);
      expect(response.status, body).toBe(403);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(body).error).toMatchObject({
        code: 'AuthFailure',
        message: expect.stringContaining('No such resource'),
      });
    },
  );
});
