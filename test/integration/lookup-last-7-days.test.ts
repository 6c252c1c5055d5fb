/**
 * "The last 7 days" as a caller writes it (beginTime = now − 7 days, `date -d '-7 days'`), against the
 * shared stack with its lake: Tencent still has every receipt of the window, so the answer is Tencent's
 * alone and complete, not a sliver of minutes read from a lake that holds none of the number's receipts.
 */
import { describe, expect, inject, it } from 'vitest';

const stack = inject('stack');

describe('a lookup of the last 7 days', () => {
  it('is Tencent’s whole answer, complete, from where its part starts', async () => {
    const now = Math.floor(Date.now() / 1000);
    const begin = now - 7 * 86400;
    const response = await fetch(
      `${stack.httpUrl}/dev/v1/phone-numbers/%2B8613711112222/statuses?all=true&beginTime=${begin}`,
      {
        headers: { 'x-api-key': stack.apiKey },
      },
    );
    const body = (await response.json()) as {
      complete: boolean;
      beginTime: number;
      statuses: unknown[];
      sources: Array<{ source: string }>;
    };
    expect(response.status, JSON.stringify(body).slice(0, 500)).toBe(200);
    expect(body.sources.map((s) => s.source)).toEqual(['tencent']);
    expect(body.complete).toBe(true);
    expect(body.statuses.length).toBeGreaterThan(0);
    expect(body.beginTime).toBeGreaterThan(begin);
    expect(body.beginTime - begin).toBeLessThanOrEqual(600);
  });
});
