/**
 * The PutEvents entry size, as AWS documents it: Time counts 14 bytes whatever its value, strings count
 * their UTF-8 bytes (not JavaScript's UTF-16 length), and EventBusName and TraceHeader count nothing.
 */
import { describe, expect, it } from 'vitest';
import { entrySize, requestSize, TIME_BYTES } from '#lib/events/entry-size.ts';

describe('entrySize', () => {
  it('counts the UTF-8 bytes of Source, DetailType and Detail', () => {
    expect(entrySize({ Source: 'app', DetailType: 'Thing', Detail: '{}' })).toBe(3 + 5 + 2);
  });

  it('counts 14 bytes for Time whatever the timestamp, and nothing when Time is absent', () => {
    expect(TIME_BYTES).toBe(14);
    expect(entrySize({ Source: 'a', Time: 0 })).toBe(15);
    expect(entrySize({ Source: 'a', Time: 1_700_000_000.123 })).toBe(15);
    expect(entrySize({ Source: 'a' })).toBe(1);
  });

  it('counts each of Resources', () => {
    expect(entrySize({ Source: 'a', Resources: ['arn:x', 'yy', ''] })).toBe(1 + 5 + 2 + 0);
  });

  it('counts nothing for EventBusName or TraceHeader', () => {
    const entry = { Source: 'a', DetailType: 'b', Detail: '{}', EventBusName: 'x'.repeat(500), TraceHeader: 'R=1' };
    expect(entrySize(entry)).toBe(4);
  });

  it('counts multi-byte characters by their UTF-8 length, not their UTF-16 length', () => {
    // é: 2 bytes, 中: 3 bytes, 😀: 4 bytes (two UTF-16 code units).
    const detail = JSON.stringify({ name: 'é中😀' });
    expect(detail.length).toBe(15);
    expect(entrySize({ Detail: detail })).toBe(11 + 2 + 3 + 4);
    expect(entrySize({ Source: 'ünïcode', DetailType: '配信' })).toBe(9 + 6);
  });

  it('counts an empty entry as nothing', () => {
    expect(entrySize({})).toBe(0);
  });
});

describe('requestSize', () => {
  it('adds up the entries', () => {
    const entries = [{ Source: 'a', Detail: '{}', Time: 1 }, { Source: 'bb', DetailType: 'c' }, {}];
    expect(requestSize(entries)).toBe(17 + 3 + 0);
    expect(requestSize([])).toBe(0);
  });
});
