/**
 * The order of the twin's answers (real Tencent's is undocumented, and a page holds at most `Limit`
 * records): each order over the product's client, set as a start option, over /_twin/configure, from
 * TWIN_ORDER and from `sms-status twin --order`; and the demo numbers made to exercise it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '#lib/config.ts';
import type { PullRequest } from '#lib/tencent/client.ts';
import { twinClient } from '../support/twin-client.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { DEMO_NUMBERS } from '../../local/twin/data.ts';
import { twinOptionsFromEnv } from '../../local/twin/env.ts';
import { TWIN_ORDERS, type Twin, type TwinOrder } from '../../local/twin/twin.ts';
import { twinControl } from '../support/twin-control.ts';
import { twinPerTest } from '../support/twin-per-test.ts';
import { seconds } from '../support/net.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;
const FOUR_FIFTY = '+8613500135000';
const SIX_DAYS = '+8613300133000';
const BURSTS = '+8613400134000';
const ONE_SECOND = '+8613600136000';
/** The twin's clock starts here, half past an hour, so its receipts are laid out relative to 12:00. */
const T0 = Date.UTC(2026, 0, 15, 12, 30, 0);
const ANCHOR = seconds(T0) - 30 * 60;
/** Six hours back hold all 450 receipts (4 to 3 hours before the hour) and the 150 in one second (5 hours before). */
const WINDOW = 6 * HOUR;
const BIN = fileURLToPath(new URL('../../cli/sms-status.js', import.meta.url));

const start = twinPerTest();

function page(t: Twin, phoneNumber = FOUR_FIFTY): Promise<PullSmsSendStatus[]> {
  const now = seconds(t.now());
  const request: PullRequest = { phoneNumber, beginTime: now - WINDOW, endTime: now, limit: 100 };
  return twinClient(t)
    .pull(request)
    .then((p) => p.statuses);
}

/** Every receipt of the page's window, oldest first, ties by SerialNo. */
function sorted(t: Twin, phoneNumber = FOUR_FIFTY): PullSmsSendStatus[] {
  const now = seconds(t.now());
  const serial = (s: PullSmsSendStatus) => s.SerialNo as string;
  return t
    .truth(phoneNumber, now - WINDOW, now)
    .sort((a, b) => (a.UserReceiveTime as number) - (b.UserReceiveTime as number) || (serial(a) < serial(b) ? -1 : 1));
}

const serials = (list: PullSmsSendStatus[]): string[] => list.map((s) => s.SerialNo as string);

describe('the order of the API answers, Limit 100 of 450 matching', () => {
  it('ascending: the 100 oldest, oldest first', async () => {
    const t = await start({ order: 'ascending' });
    const all = sorted(t);
    expect(all).toHaveLength(450);
    expect(serials(await page(t))).toEqual(serials(all.slice(0, 100)));
  });

  it('descending: the 100 newest, newest first', async () => {
    const t = await start({ order: 'descending' });
    expect(serials(await page(t))).toEqual(serials(sorted(t).slice(-100).reverse()));
  });

  it.each([{}, { order: 'shuffled' as const }])(
    'shuffled (%o): 100 distinct receipts of the window, unsorted, not always the oldest',
    async (options) => {
      const t = await start(options);
      const all = sorted(t);
      const inWindow = new Set(serials(all));
      const oldest = new Set(serials(all.slice(0, 100)));
      const pages = [await page(t), await page(t), await page(t)];
      for (const p of pages) {
        const got = serials(p);
        expect(got).toHaveLength(100);
        expect(new Set(got).size).toBe(100);
        expect(got.every((s) => inWindow.has(s))).toBe(true);
        expect(got).not.toEqual(
          serials([...p].sort((a, b) => (a.UserReceiveTime as number) - (b.UserReceiveTime as number))),
        );
      }
      expect(pages.every((p) => serials(p).every((s) => oldest.has(s)))).toBe(false);
      expect(new Set(pages.map((p) => serials(p).sort().join())).size).toBeGreaterThan(1);
    },
  );

  it('sorted orders break ties by SerialNo: the same 100 of 150 in one second on every request', async () => {
    const t = await start({ order: 'ascending' });
    const all = sorted(t, ONE_SECOND);
    expect(all).toHaveLength(150);
    expect(serials(await page(t, ONE_SECOND))).toEqual(serials(all.slice(0, 100)));
    expect(serials(await page(t, ONE_SECOND))).toEqual(serials(all.slice(0, 100)));
    t.configure({ order: 'descending' });
    expect(serials(await page(t, ONE_SECOND))).toEqual(serials(all.slice(-100).reverse()));
  });
});

describe('order as a control setting', () => {
  it.each(TWIN_ORDERS)('/_twin/configure accepts {"order": "%s"}; /_twin/settings shows it', async (order) => {
    const t = await start();
    const control = twinControl(t.url);
    expect((await control.settings()).order).toBe('shuffled');
    await control.configure({ order });
    expect((await control.settings()).order).toBe(order);
  });

  it('switching the order over HTTP changes which 100 the API answers', async () => {
    const t = await start();
    const control = twinControl(t.url);
    const all = sorted(t);
    await control.configure({ order: 'ascending' });
    expect(serials(await page(t))).toEqual(serials(all.slice(0, 100)));
    await control.configure({ order: 'descending' });
    expect(serials(await page(t))).toEqual(serials(all.slice(-100).reverse()));
  });

  it.each(['random', 'ASCENDING', null, 1])(
    'a bad order (%o) is a 400 naming the field, and the order stays',
    async (order) => {
      const t = await start({ order: 'descending' });
      const res = await fetch(`${t.url}/_twin/configure`, { method: 'POST', body: JSON.stringify({ order }) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(
        /^order must be one of shuffled, ascending, descending/,
      );
      expect((await twinControl(t.url).settings()).order).toBe('descending');
    },
  );

  it('Twin.configure and the start option refuse a bad order naming the field; an undefined order keeps the current one', async () => {
    const t = await start({ order: 'ascending' });
    expect(() => t.configure({ order: 'sideways' as TwinOrder })).toThrow(/order must be one of/);
    t.configure({ order: undefined, rateLimit: 20 });
    expect((await twinControl(t.url).settings()).order).toBe('ascending');
    await expect(start({ order: 'sideways' as TwinOrder })).rejects.toThrow(/twin option order must be one of/);
  });
});

describe('order as a start flag', () => {
  it('TWIN_ORDER maps to the order option; unset or empty, there is none (shuffled)', () => {
    expect(twinOptionsFromEnv({}).order).toBeUndefined();
    expect(twinOptionsFromEnv({ TWIN_ORDER: '' }).order).toBeUndefined();
    for (const order of TWIN_ORDERS) expect(twinOptionsFromEnv({ TWIN_ORDER: order }).order).toBe(order);
  });

  it('a bad TWIN_ORDER throws a ConfigError naming TWIN_ORDER', () => {
    const error = (() => {
      try {
        twinOptionsFromEnv({ TWIN_ORDER: 'newest' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      variable: 'TWIN_ORDER',
      message: expect.stringMatching(/^TWIN_ORDER must be one of shuffled, ascending, descending, got 'newest'/),
    });
  });

  it('a twin started from TWIN_ORDER=descending answers the newest first', async () => {
    const t = await start(twinOptionsFromEnv({ TWIN_ORDER: 'descending' }));
    expect(serials(await page(t))).toEqual(serials(sorted(t).slice(-100).reverse()));
  });

  describe('sms-status twin', () => {
    let child: ReturnType<typeof spawn> | undefined;
    afterEach(() => {
      child?.kill('SIGKILL');
      child = undefined;
    });

    function launch(args: string[], env: Record<string, string> = {}) {
      child = spawn(process.execPath, [BIN, 'twin', '--port', '0', ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      return { child, stderr: () => stderr };
    }

    it('--order sets the order (over TWIN_ORDER) of the twin it starts', async () => {
      const { child, stderr } = launch(['--order', 'ascending'], { TWIN_ORDER: 'descending' });
      await expect.poll(stderr, { timeout: 15_000 }).toContain('Ctrl-C');
      expect(stderr()).toContain('answer order: ascending');
      const url = /listening on (http:\S+)/.exec(stderr())?.[1] as string;
      expect((await twinControl(url).settings()).order).toBe('ascending');
      child.kill('SIGTERM');
      expect((await once(child, 'close'))[0]).toBe(0);
    });

    it.each([
      [['--order', 'newest'], {}, "--order must be one of shuffled, ascending, descending, got 'newest'"],
      [[], { TWIN_ORDER: 'newest' }, "TWIN_ORDER must be one of shuffled, ascending, descending, got 'newest'"],
    ])('%o %o: exits 2 naming the flag or variable', async (args, env, message) => {
      const { child, stderr } = launch(args, env);
      const [code] = (await once(child, 'close')) as [number | null];
      expect(code).toBe(2);
      expect(stderr()).toContain(`sms-status: ${message}`);
    });
  });
});

describe('demo numbers for the order', () => {
  const times = (t: Twin, phoneNumber: string): number[] =>
    t.truth(phoneNumber, 0, seconds(t.now())).map((s) => s.UserReceiveTime as number);
  const within = (list: number[], fromAgo: number, toAgo: number): number =>
    list.filter((x) => x >= ANCHOR - fromAgo && x <= ANCHOR - toAgo).length;

  it(`${FOUR_FIFTY}: 450 receipts inside one hour, 4 to 3 hours ago`, async () => {
    const t = await start({ clock: T0 });
    const list = times(t, FOUR_FIFTY);
    expect(list).toHaveLength(450);
    expect(within(list, 4 * HOUR, 3 * HOUR)).toBe(450);
    expect(DEMO_NUMBERS[FOUR_FIFTY]?.count).toBe(450);
  });

  it(`${SIX_DAYS}: 700 receipts spread over 6 days`, async () => {
    const t = await start({ clock: T0 });
    const list = times(t, SIX_DAYS);
    expect(list).toHaveLength(700);
    expect(within(list, 6 * DAY - HOUR, HOUR)).toBe(700);
    // Spread, not clustered: every day of the six holds a fair share (about 117).
    for (let day = 0; day < 6; day++) expect(within(list, (day + 1) * DAY, day * DAY + 1)).toBeGreaterThan(70);
    expect(DEMO_NUMBERS[SIX_DAYS]?.count).toBe(700);
  });

  it(`${BURSTS}: three bursts of 200 receipts, each inside ten minutes, around 30, 20 and 5 hours ago`, async () => {
    const t = await start({ clock: T0 });
    const list = times(t, BURSTS);
    expect(list).toHaveLength(600);
    for (const hours of [30, 20, 5])
      expect(within(list, hours * HOUR + 300, hours * HOUR - 300), `${hours} h ago`).toBe(200);
    expect(DEMO_NUMBERS[BURSTS]?.count).toBe(600);
  });

  it('the receipts are the same on every start with the same clock, and follow the anchor hour', async () => {
    const first = await start({ clock: T0 });
    const before = first.truth(BURSTS, 0, seconds(T0));
    await first.close();
    const again = await start({ clock: T0 + 10 * 60_000 });
    expect(again.truth(BURSTS, 0, seconds(T0))).toEqual(before);
    await again.close();
    const later = await start({ clock: T0 + HOUR * 1000 });
    const moved = later.truth(BURSTS, 0, seconds(later.now()));
    expect(moved).toHaveLength(600);
    expect(serials(moved)).not.toEqual(serials(before));
  });
});
