import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { functionLogEntry, functionLogWriter, prettyLine } from '../../../local/function-logs.ts';

const LOOKUP_LINE = JSON.stringify({
  level: 'INFO',
  message: 'lookup',
  timestamp: '2026-12-05T12:23:16.398Z',
  service: 'sms-status',
  cold_start: false,
  function_arn: 'offline_invokedFunctionArn_for_sms-status-dev-lookup',
  function_memory_size: '512',
  function_name: 'sms-status-dev-lookup',
  function_request_id: '2692c9fc-2ae6-4801-82f4-3a3d2fdb8e44',
  sampling_rate: 0,
  phoneNumber: '+86*******2222',
  complete: true,
});
const EMF_LINE =
  '{"_aws":{"Timestamp":1796473396399,"CloudWatchMetrics":[]},"service":"sms-status","TencentRequests":1}';

/** A stream that is not a terminal: no colours. */
function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe('functionLogEntry', () => {
  it('takes a Powertools line, and leaves out EMF metrics and serverless-offline’s own lines', () => {
    expect(functionLogEntry(LOOKUP_LINE)).toMatchObject({ function_name: 'sms-status-dev-lookup', message: 'lookup' });
    expect(functionLogEntry(EMF_LINE)).toBeUndefined();
    expect(functionLogEntry('GET /dev/v1/phone-numbers/+8613711112222/statuses (λ: lookup)')).toBeUndefined();
    expect(
      functionLogEntry('(λ: lookup) RequestId: 2692c9fc  Duration: 40.17 ms  Billed Duration: 41 ms'),
    ).toBeUndefined();
    expect(functionLogEntry('{not json')).toBeUndefined();
  });

  it('passes serverless-offline’s error lines on, masked', () => {
    const entry = functionLogEntry(
      "× Unhandled Lambda Error during invoke of 'sms-status-dev-lookup': InvalidInput: bad +8613711112222",
    );
    expect(entry).toMatchObject({ level: 'ERROR', function_name: 'serverless-offline' });
    expect(entry?.message).toContain('+86*******2222');
    expect(entry?.message).not.toContain('13711112222');
  });
});

describe('prettyLine', () => {
  it('is time, function, level, message and the rest of the fields', () => {
    const { stream } = sink();
    const line = prettyLine(functionLogEntry(LOOKUP_LINE) as never, stream);
    expect(line).toMatch(/^\d\d:\d\d:\d\d lookup +INFO +lookup \{"phoneNumber":"\+86\*{7}2222","complete":true\}$/);
  });

  it('shows an error’s stack under its line, not inside the fields', () => {
    const { stream } = sink();
    const entry = {
      level: 'WARN',
      message: 'lookup failed',
      function_name: 'sms-status-dev-lookup',
      error: { name: 'InvalidInput', message: 'x', stack: 'InvalidInput: x\n    at parse (lookup.mjs:1:2)' },
    };
    const line = prettyLine(entry, stream);
    expect(line.split('\n')[0]).toContain('"error":{"name":"InvalidInput","message":"x"}');
    expect(line.split('\n')[1]).toBe('    at parse (lookup.mjs:1:2)');
  });

  it('leaves serverless-offline’s frames out of a stack', () => {
    const { stream } = sink();
    const stack = [
      'E: x',
      '    at parse (lookup.mjs:1:2)',
      '    at run (/r/node_modules/serverless-offline/src/x.js:1:1)',
      '    at h (/r/node_modules/@hapi/hapi/lib/t.js:1:1)',
    ];
    const line = prettyLine({ level: 'ERROR', message: 'm', error: { stack: stack.join('\n') } }, stream);
    expect(line.split('\n').slice(1)).toEqual(['    at parse (lookup.mjs:1:2)']);
  });
});

describe('functionLogWriter', () => {
  it('writes JSON lines, pretty lines, or nothing', () => {
    const json = sink();
    functionLogWriter('json', json.stream)(LOOKUP_LINE);
    functionLogWriter('json', json.stream)(EMF_LINE);
    expect(JSON.parse(json.text())).toEqual(JSON.parse(LOOKUP_LINE));
    const pretty = sink();
    functionLogWriter('pretty', pretty.stream)(LOOKUP_LINE);
    expect(pretty.text()).toMatch(/ lookup +INFO +lookup /);
    const quiet = sink();
    functionLogWriter('quiet', quiet.stream)(LOOKUP_LINE);
    expect(quiet.text()).toBe('');
  });
});
