/**
 * Late carrier reports in the twin: receipts held back until some time after their UserReceiveTime,
 * as seen through the product's own client, the twin's methods and its control routes.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '#lib/config.ts';
import type { PullRequest } from '#lib/tencent/client.ts';
import { twinClient } from '../support/twin-client.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { twinOptionsFromEnv } from '../../local/twin/env.ts';
import type { NumberProfile } from '../../local/twin/data.ts';
import { startTwin, type Twin, type TwinOptions } from '../../local/twin/twin.ts';
import { twinControl } from '../support/twin-control.ts';
import { twinPerTest } from '../support/twin-per-test.ts';

const HOUR = 3600;
/** The twin's clock starts here, half past an hour: its receipts are laid out before 12:00. */
const T0 = Date.UTC(2026, 0, 15, 12, 30, 0);
const T0_SECONDS = T0 / 1000;
const ANCHOR = T0_SECONDS - 30 * 60;
const NUMBER = '+447700900123';

const start = twinPerTest();

function withNumber(profile: NumberProfile, options: TwinOptions = {}): TwinOptions {
  return { clock: T0, numbers: { [NUMBER]: profile }, ...options };
}

/** What the product's client gets from the twin: the SerialNos of one page over the last `hours`. */
async function apiSerials(t: Twin, hours = 3, phoneNumber = NUMBER): Promise<Set<string>> {
  // The twin's clock is not the real one: sign with its time, as a client in sync with Tencent would.
  const client = twinClient(t, { now: t.now });
  const nowSeconds = Math.floor(t.now() / 1000);
  const request: PullRequest = { phoneNumber, beginTime: nowSeconds - hours * HOUR, endTime: nowSeconds, limit: 100 };
  const page = await client.pull(request);
  return serials(page.statuses);
}

function serials(list: PullSmsSendStatus[]): Set<string> {
  return new Set(list.map((s) => s.SerialNo as string));
}

/** Every receipt of NUMBER, held or not. */
function allOf(t: Twin): PullSmsSendStatus[] {
  return t.truth(NUMBER, ANCHOR - 7 * 24 * HOUR, Math.floor(t.now() / 1000));
}

function heldNow(t: Twin): PullSmsSendStatus[] {
  const nowSeconds = t.now() / 1000;
  return allOf(t).filter((s) => t.visibleAt(s) > nowSeconds);
}

async function post(t: Twin, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(3000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('explicit holds', () => {
  it('a held receipt is absent from API answers before its time and present after; truth has it throughout', async () => {
    const t = await start(withNumber({ count: 20, fromAgo: HOUR, toAgo: 600 }));
    const all = allOf(t);
    expect(all).toHaveLength(20);
    expect(await apiSerials(t)).toEqual(serials(all));

    const held = all[7] as PullSmsSendStatus;
    const serialNo = held.SerialNo as string;
    const visibleAt = T0_SECONDS + HOUR;
    t.configure({ hold: { [serialNo]: visibleAt } });
    expect(t.visibleAt(held)).toBe(visibleAt);

    const before = await apiSerials(t);
    expect(before.size).toBe(19);
    expect(before.has(serialNo)).toBe(false);
    expect(serials(t.visible(NUMBER, ANCHOR - 2 * HOUR, ANCHOR))).toEqual(before);
    expect(allOf(t)).toEqual(all);

    t.advance(HOUR - 10);
    expect((await apiSerials(t)).has(serialNo)).toBe(false);
    expect(allOf(t)).toEqual(all);

    t.advance(20);
    expect(await apiSerials(t)).toEqual(serials(all));
    expect(allOf(t)).toEqual(all);
  });

  it('over HTTP: /_twin/configure sets holds, /_twin/visible answers like the API, /_twin/advance moves the clock', async () => {
    const t = await start(withNumber({ count: 10, fromAgo: HOUR, toAgo: 600 }));
    const control = twinControl(t.url);
    const all = allOf(t);
    const [a, b] = all.map((s) => s.SerialNo as string) as [string, string];
    await control.configure({ hold: { [a]: T0_SECONDS + 600, [b]: T0_SECONDS + 1200 } });

    const begin = ANCHOR - 2 * HOUR;
    const end = T0_SECONDS;
    const visible = await control.visible(NUMBER, begin, end);
    expect(visible).toEqual(t.visible(NUMBER, begin, end));
    expect(serials(visible)).toEqual(await apiSerials(t));
    expect(visible.map((s) => s.SerialNo)).not.toContain(a);
    expect(visible.map((s) => s.SerialNo)).not.toContain(b);
    expect(await control.truth(NUMBER, begin, end)).toEqual(t.truth(NUMBER, begin, end));
    expect(await control.truth(NUMBER, begin, end)).toHaveLength(10);

    const moved = await control.advance(900);
    expect(moved).toBeGreaterThanOrEqual(T0 + 900_000);
    expect(Math.abs(t.now() - moved)).toBeLessThan(1000);
    const after = await apiSerials(t);
    expect(after.has(a)).toBe(true);
    expect(after.has(b)).toBe(false);

    await control.configure({ hold: null });
    expect(await apiSerials(t)).toEqual(serials(all));
  });

  it('a hold given at start applies to the same receipt after a restart with the same clock', async () => {
    const profile: NumberProfile = { count: 5, fromAgo: HOUR, toAgo: 600 };
    const first = await startTwin(withNumber(profile));
    const serialNo = allOf(first)[2]?.SerialNo as string;
    await first.close();

    const t = await start(withNumber(profile, { hold: { [serialNo]: T0_SECONDS + 60 } }));
    expect(allOf(t).map((s) => s.SerialNo)).toContain(serialNo);
    expect((await apiSerials(t)).has(serialNo)).toBe(false);
    t.advance(120);
    expect((await apiSerials(t)).has(serialNo)).toBe(true);
  });

  it('a hold overrides lateReports: a time at or before UserReceiveTime releases a late receipt', async () => {
    const t = await start(
      withNumber({ count: 10, fromAgo: HOUR, toAgo: 600 }, { lateReports: { share: 1, delaySeconds: 2 * HOUR } }),
    );
    expect((await apiSerials(t)).size).toBe(0);
    const released = allOf(t)[4] as PullSmsSendStatus;
    t.configure({ lateReports: { share: 1, delaySeconds: 2 * HOUR }, hold: { [released.SerialNo as string]: 0 } });
    expect(t.visibleAt(released)).toBe(released.UserReceiveTime);
    expect(await apiSerials(t)).toEqual(new Set([released.SerialNo]));
  });
});

describe('lateReports', () => {
  it('a fixed delay: held receipts appear in API answers exactly when UserReceiveTime + delay passes', async () => {
    const t = await start(
      withNumber({ count: 80, fromAgo: HOUR, toAgo: 0 }, { lateReports: { share: 0.5, delaySeconds: 2 * HOUR } }),
    );
    const all = allOf(t);
    expect(all).toHaveLength(80);
    const late = all.filter((s) => t.visibleAt(s) !== s.UserReceiveTime);
    for (const s of late) expect(t.visibleAt(s)).toBe((s.UserReceiveTime as number) + 2 * HOUR);
    expect(late.length).toBeGreaterThan(20);
    expect(late.length).toBeLessThan(60);

    // 12:30: every late receipt (received 11:00–12:00) is still held.
    let api = await apiSerials(t);
    expect(api).toEqual(serials(all.filter((s) => !late.includes(s))));
    expect(api).toEqual(serials(t.visible(NUMBER, 0, T0_SECONDS)));

    // 13:30: those received by 11:30 are in; the rest still held.
    t.advance(HOUR);
    const nowSeconds = t.now() / 1000;
    api = await apiSerials(t, 4);
    expect(api).toEqual(serials(all.filter((s) => t.visibleAt(s) <= nowSeconds)));
    const stillHeld = late.filter((s) => !api.has(s.SerialNo as string));
    expect(stillHeld.length).toBeGreaterThan(0);
    expect(stillHeld.length).toBeLessThan(late.length);

    // 14:30: everything is in, and the truth never changed.
    t.advance(HOUR);
    expect(await apiSerials(t, 5)).toEqual(serials(all));
    expect(allOf(t)).toEqual(all);
  });

  it('a [min, max] delay: per-receipt whole seconds within the range, the same on every start with the same seed', async () => {
    const options = withNumber(
      { count: 300, fromAgo: 6 * HOUR, toAgo: 0 },
      { lateReports: { share: 0.5, delaySeconds: [HOUR, 72 * HOUR] } },
    );
    const t = await start(options);
    const delays = new Map(allOf(t).map((s) => [s.SerialNo as string, t.visibleAt(s) - (s.UserReceiveTime as number)]));
    const late = [...delays.values()].filter((d) => d > 0);
    expect(late.length).toBeGreaterThan(100);
    for (const d of late) {
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(HOUR);
      expect(d).toBeLessThanOrEqual(72 * HOUR);
    }
    // Spread over the range, not bunched at one end.
    expect(late.filter((d) => d < 36 * HOUR).length).toBeGreaterThan(late.length * 0.3);
    expect(late.filter((d) => d > 36 * HOUR).length).toBeGreaterThan(late.length * 0.3);

    const again = await startTwin(options);
    const otherSeed = await startTwin({ ...options, seed: 7 });
    try {
      expect(
        new Map(allOf(again).map((s) => [s.SerialNo as string, again.visibleAt(s) - (s.UserReceiveTime as number)])),
      ).toEqual(delays);
      expect(serials(heldNow(otherSeed))).not.toEqual(serials(heldNow(t)));
    } finally {
      await again.close();
      await otherSeed.close();
    }
  });

  it('share 0.3 over 1000 receipts holds 250–350, the same ones after a restart; a larger share keeps them', async () => {
    const options = withNumber(
      { count: 1000, fromAgo: HOUR, toAgo: 0 },
      { lateReports: { share: 0.3, delaySeconds: 2 * HOUR } },
    );
    const t = await start(options);
    const all = allOf(t);
    expect(all).toHaveLength(1000);
    const held = serials(heldNow(t));
    expect(held.size).toBeGreaterThanOrEqual(250);
    expect(held.size).toBeLessThanOrEqual(350);
    expect(t.visible(NUMBER, 0, T0_SECONDS)).toHaveLength(1000 - held.size);

    const restarted = await startTwin(options);
    try {
      expect(serials(heldNow(restarted))).toEqual(held);
    } finally {
      await restarted.close();
    }

    t.configure({ lateReports: { share: 0.6, delaySeconds: 2 * HOUR } });
    const more = serials(heldNow(t));
    expect(more.size).toBeGreaterThan(500);
    expect(more.size).toBeLessThan(700);
    for (const serialNo of held) expect(more.has(serialNo)).toBe(true);
  });

  it('configure turns late reports on and off, in process and over HTTP', async () => {
    const t = await start(withNumber({ count: 30, fromAgo: HOUR, toAgo: 0 }));
    const all = serials(allOf(t));
    t.configure({ lateReports: { share: 1, delaySeconds: 2 * HOUR } });
    expect((await apiSerials(t)).size).toBe(0);
    t.configure({ lateReports: undefined });
    expect(await apiSerials(t)).toEqual(all);

    const on = await post(t, '/_twin/configure', { lateReports: { share: 1, delaySeconds: [2 * HOUR, 3 * HOUR] } });
    expect(on.status).toBe(200);
    expect(on.json.lateReports).toEqual({ share: 1, delaySeconds: [2 * HOUR, 3 * HOUR] });
    expect((await apiSerials(t)).size).toBe(0);
    expect((await post(t, '/_twin/configure', { lateReports: null })).status).toBe(200);
    expect(await apiSerials(t)).toEqual(all);
  });
});

describe('invalid late-report settings', () => {
  const BAD: [unknown, RegExp][] = [
    [{ lateReports: { share: 1.5, delaySeconds: 60 } }, /lateReports\.share/],
    [{ lateReports: { share: '0.3', delaySeconds: 60 } }, /lateReports\.share/],
    [{ lateReports: { share: 0.3 } }, /lateReports\.delaySeconds/],
    [{ lateReports: { share: 0.3, delaySeconds: -5 } }, /lateReports\.delaySeconds/],
    [{ lateReports: { share: 0.3, delaySeconds: [600, 60] } }, /lateReports\.delaySeconds/],
    [{ lateReports: { share: 0.3, delaySeconds: [60, 'later'] } }, /lateReports\.delaySeconds/],
    [{ lateReports: { share: 0.3, delaySeconds: 60, extra: true } }, /lateReports\.extra/],
    [{ lateReports: 0.3 }, /lateReports/],
    [{ lateReports: [0.3, 60] }, /lateReports/],
    [{ hold: { '2433:abc': 'soon' } }, /hold/],
    [{ hold: ['2433:abc'] }, /hold/],
    [{ lateShare: 0.3 }, /lateShare/],
    [{ faults: { rate: 3 } }, /faults\.rate/],
  ];

  it('/_twin/configure answers 400 with an error naming the field, applies nothing, and keeps running', async () => {
    const t = await start(withNumber({ count: 30, fromAgo: HOUR, toAgo: 0 }));
    const all = await apiSerials(t);
    for (const [body, field] of BAD) {
      const { status, json } = await post(t, '/_twin/configure', body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error, JSON.stringify(body)).toMatch(field);
    }
    for (const body of ['[1, 2]', '"lateReports"', 'null', '{"lateReports": {']) {
      const { status, json } = await post(t, '/_twin/configure', body);
      expect(status, body).toBe(400);
      expect(typeof json.error).toBe('string');
    }
    expect(await apiSerials(t)).toEqual(all);
    expect(t.stats()).toMatchObject({ received: 2, ok: 2 });
  });

  it('/_twin/advance refuses a body without finite seconds', async () => {
    const t = await start(withNumber({ count: 3, fromAgo: HOUR, toAgo: 0 }));
    for (const body of [{}, { seconds: 'an hour' }, { seconds: null }, 'nope']) {
      const { status, json } = await post(t, '/_twin/advance', body);
      expect(status).toBe(400);
      expect(json.error).toMatch(/seconds/);
    }
    expect(Math.abs(t.now() - T0)).toBeLessThan(10_000);
  });

  it('configure() throws a TypeError naming the field; startTwin refuses a bad option', async () => {
    const t = await start(withNumber({ count: 3, fromAgo: HOUR, toAgo: 0 }));
    expect(() => t.configure({ lateReports: { share: 2, delaySeconds: 60 } })).toThrow(/lateReports\.share/);
    expect(() => t.configure({ lateReports: { share: 2, delaySeconds: 60 } })).toThrow(TypeError);
    expect(t.visible(NUMBER, 0, T0_SECONDS)).toHaveLength(3);
    await expect(startTwin({ lateReports: { share: 0.5, delaySeconds: [10, 1] } })).rejects.toThrow(
      /lateReports\.delaySeconds/,
    );
    await expect(startTwin({ hold: { x: Number.NaN } })).rejects.toThrow(/hold/);
  });
});

describe('without late reports', () => {
  it('nothing is held: visible equals truth, visibleAt is UserReceiveTime, the API returns every receipt', async () => {
    const t = await start({ clock: T0 });
    const begin = T0_SECONDS - 7 * 24 * HOUR + 60;
    for (const phoneNumber of [
      '+8613711112222',
      '+8613800138000',
      '+8615000150000',
      '+14155550123',
      '+8613012345678',
    ]) {
      const truth = t.truth(phoneNumber, begin, T0_SECONDS);
      expect(t.visible(phoneNumber, begin, T0_SECONDS)).toEqual(truth);
      for (const s of truth) expect(t.visibleAt(s)).toBe(s.UserReceiveTime);
    }
    const ordinary = await apiSerials(t, 7 * 24 - 1, '+8613711112222');
    expect(ordinary).toEqual(serials(t.truth('+8613711112222', T0_SECONDS - (7 * 24 - 1) * HOUR, T0_SECONDS)));
    expect(ordinary.size).toBeGreaterThan(30);
  });

  it('share 0 holds nothing either', async () => {
    const t = await start(
      withNumber({ count: 50, fromAgo: HOUR, toAgo: 0 }, { lateReports: { share: 0, delaySeconds: 2 * HOUR } }),
    );
    expect(heldNow(t)).toHaveLength(0);
    expect((await apiSerials(t)).size).toBe(50);
  });
});

describe('environment', () => {
  it('TWIN_LATE_SHARE and TWIN_LATE_SECONDS set lateReports; unset, there are none', () => {
    expect(twinOptionsFromEnv({}).lateReports).toBeUndefined();
    expect(twinOptionsFromEnv({ TWIN_LATE_SHARE: '0' }).lateReports).toBeUndefined();
    expect(twinOptionsFromEnv({ TWIN_LATE_SHARE: '0.25' }).lateReports).toEqual({ share: 0.25, delaySeconds: 7200 });
    expect(twinOptionsFromEnv({ TWIN_LATE_SHARE: '0.25', TWIN_LATE_SECONDS: '259200' }).lateReports).toEqual({
      share: 0.25,
      delaySeconds: 259200,
    });
    expect(() => twinOptionsFromEnv({ TWIN_LATE_SHARE: '1.5' })).toThrow(ConfigError);
    expect(() => twinOptionsFromEnv({ TWIN_LATE_SHARE: '0.2', TWIN_LATE_SECONDS: '-1' })).toThrow(ConfigError);
  });

  it('a twin started from that environment holds receipts back', async () => {
    const options = twinOptionsFromEnv({ TWIN_LATE_SHARE: '1', TWIN_LATE_SECONDS: '3600' });
    const t = await start(withNumber({ count: 10, fromAgo: 1700, toAgo: 0 }, options));
    expect((await apiSerials(t)).size).toBe(0);
    t.advance(HOUR);
    expect((await apiSerials(t)).size).toBe(10);
  });
});
