import { halving } from './fixtures/halving.ts';
import { startStack } from '../local/stack.ts';
import { startTwin, type Twin, type TwinOrder } from '../local/twin/twin.ts';
import { DEMO_NUMBERS, type NumberProfile } from '../local/twin/data.ts';
import { freePorts } from '../test/support/ports.ts';
import { collect } from '#lib/status/collect.ts';
import { adaptiveSplit, type Splitter } from '#lib/status/split.ts';
import { twinClient } from '../test/support/twin-client.ts';

export interface MatrixCell {
  number: string;
  shape: string;
  order: TwinOrder;
  window: string;
  receipts: number;
  lowerBound: number;
  halving: number;
  adaptive: number;
  exact: boolean;
  /** The same shape drawn DRAWS more times (other numbers, same profile): halving's and the adaptive mean, the adaptive worst. */
  draws: { halvingMean: number; adaptiveMean: number; adaptiveMax: number; exact: boolean };
}

const DRAWS = 20;

const DAY = 86_400;
const SHAPES: Array<[string, string]> = [
  ['+8613500135000', '450 in one hour'],
  ['+8613300133000', '700 over 6 days'],
  ['+8613400134000', 'three bursts of 200'],
];
const WINDOWS: Array<[string, number]> = [
  ['24 h', DAY],
  ['7 days', 7 * DAY - 600],
];

async function requestsFor(
  twin: Twin,
  phoneNumber: string,
  span: number,
  split: Splitter,
): Promise<{ requests: number; exact: boolean }> {
  const client = twinClient(twin, { now: twin.now });
  const endTime = Math.floor(twin.now() / 1000);
  const beginTime = endTime - span;
  const result = await collect(
    client,
    { phoneNumber, beginTime, endTime, limit: 100, all: true },
    { maxRequests: 10_000, concurrency: 4, split },
  );
  const truth = twin
    .truth(phoneNumber, beginTime, endTime)
    .map((s) => s.SerialNo)
    .sort();
  const exact =
    result.complete && JSON.stringify(result.records.map((r) => r.serialNo).sort()) === JSON.stringify(truth);
  return { requests: result.requests, exact };
}

/** Other numbers with the demo number's profile: the same shape, other receive times. */
function drawsOf(number: string): string[] {
  return Array.from({ length: DRAWS }, (_, i) => `${number.slice(0, -3)}9${String(i).padStart(2, '0')}`);
}

async function drawsFor(twin: Twin, number: string, span: number): Promise<MatrixCell['draws']> {
  const halved: number[] = [];
  const adaptive: number[] = [];
  let exact = true;
  for (const draw of drawsOf(number)) {
    const h = await requestsFor(twin, draw, span, halving);
    const a = await requestsFor(twin, draw, span, adaptiveSplit);
    halved.push(h.requests);
    adaptive.push(a.requests);
    exact &&= h.exact && a.exact;
  }
  const mean = (xs: number[]): number => xs.reduce((sum, x) => sum + x, 0) / xs.length;
  return { halvingMean: mean(halved), adaptiveMean: mean(adaptive), adaptiveMax: Math.max(...adaptive), exact };
}

/** Requests per complete pull, halving beside the adaptive splitter, for every order, window and shape. */
export async function splitMatrix(): Promise<MatrixCell[]> {
  // No rate limit here: the figure is requests, not time.
  const twin = await startTwin({
    rateLimit: 10_000,
    numbers: {
      ...DEMO_NUMBERS,
      ...Object.fromEntries(
        SHAPES.flatMap(([number]) => drawsOf(number).map((draw) => [draw, DEMO_NUMBERS[number] as NumberProfile])),
      ),
    },
  });
  const cells: MatrixCell[] = [];
  try {
    for (const [number, shape] of SHAPES) {
      for (const order of ['shuffled', 'ascending', 'descending'] as TwinOrder[]) {
        twin.configure({ order });
        for (const [window, span] of WINDOWS) {
          const end = Math.floor(twin.now() / 1000);
          const receipts = twin.truth(number, end - span, end).length;
          const halved = await requestsFor(twin, number, span, halving);
          const adaptive = await requestsFor(twin, number, span, adaptiveSplit);
          const draws = await drawsFor(twin, number, span);
          cells.push({
            number,
            shape,
            order,
            window,
            receipts,
            lowerBound: Math.ceil(receipts / 100),
            halving: halved.requests,
            adaptive: adaptive.requests,
            exact: halved.exact && adaptive.exact,
            draws,
          });
        }
      }
    }
  } finally {
    await twin.close();
  }
  return cells;
}

/** Wall time of the 600-record demo lookup (all=true, 6 h) through `npm start`'s serverless-offline. */
export async function demoLookupTimes(
  runs = 3,
): Promise<{ ms: number[]; requests: number; complete: boolean; statuses: number }> {
  const ports = await freePorts('http', 'lambda', 's3', 'twin');
  const env: NodeJS.ProcessEnv = { ...process.env, EXPORT_SCHEDULE_ENABLED: 'false' };
  for (const name of ['TENCENT_SMS_ENDPOINT', 'TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY', 'SMS_SDK_APP_ID'])
    delete env[name];
  const stack = await startStack({ ports, env });
  try {
    const begin = new Date(Date.now() - 6 * 3600 * 1000).toISOString().slice(0, 19);
    const url = `${stack.offline.httpUrl}/dev/v1/phone-numbers/%2B8613800138000/statuses?all=true&beginTime=${begin}Z`;
    await fetch(`${stack.offline.httpUrl}/dev/v1/phone-numbers/%2B8613711112222/statuses?limit=1`, {
      headers: { 'x-api-key': stack.apiKey },
    });
    const ms: number[] = [];
    let last: { complete: boolean; statuses: unknown[]; requestIds: string[] } = {
      complete: false,
      statuses: [],
      requestIds: [],
    };
    for (let i = 0; i < runs; i++) {
      // A pause between runs, so each starts with the pacer at rest.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const started = performance.now();
      const response = await fetch(url, { headers: { 'x-api-key': stack.apiKey } });
      last = (await response.json()) as typeof last;
      ms.push(performance.now() - started);
    }
    return { ms, requests: last.requestIds.length, complete: last.complete, statuses: last.statuses.length };
  } finally {
    await stack.stop();
  }
}
