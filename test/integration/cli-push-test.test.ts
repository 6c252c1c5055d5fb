/** `sms-status push-test` against a receiver on loopback that keeps what it was sent. */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../support/net.ts';
import { runCli } from '../support/run-cli.ts';

let server: http.Server;
let url: string;
const received: unknown[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"result":0,"errmsg":"OK"}');
    });
  });
  url = `http://127.0.0.1:${await listen(server)}/dev/v1/callbacks/tencent/token`;
});

afterAll(() => close(server));

describe('sms-status push-test', () => {
  it.each([
    ['+447700900123', '44', '7700900123'],
    ['+85291234567', '852', '91234567'],
    ['+8613711112222', '86', '13711112222'],
    ['+14155550123', '1', '4155550123'],
    ['+79161234567', '7', '9161234567'],
    ['+971501234567', '971', '501234567'],
    ['+3906698812345', '39', '06698812345'],
  ])('sends %s as nationcode %s, mobile %s (the E.164 plan)', async (phoneNumber, nationcode, mobile) => {
    const run = await runCli(['push-test', url, '--phone-number', phoneNumber]);
    expect(run.code, run.stderr).toBe(0);
    expect(received.at(-1)).toEqual([expect.objectContaining({ nationcode, mobile })]);
  });

  it('refuses a number whose code no country has, naming the option', async () => {
    const run = await runCli(['push-test', url, '--phone-number', '+99912345678']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--phone-number');
    expect(run.stderr).not.toContain('    at ');
  });
});
