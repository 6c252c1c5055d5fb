import { describe, expect, it } from 'vitest';
import { CorruptObject } from '#lib/lake/corrupt.ts';

describe('CorruptObject', () => {
  it('names the object and what was wrong with it, keeping the cause', () => {
    const cause = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' });
    const key = 'sms-status/statuses/dt=2024-05-01/part-03.jsonl.gz';
    const error = new CorruptObject(key, cause);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CorruptObject');
    expect(error.key).toBe(key);
    expect(error.message).toBe(`lake object ${key} is corrupt: incorrect header check`);
    expect(error.cause).toBe(cause);
  });
});
