import { describe, expect, it } from 'vitest';
import { isScheduled, jobIdOf } from '#lib/export/job.ts';

const A = '+8613711112222';
const B = '+8613800138000';
const C = '+14155550123';

describe('jobIdOf', () => {
  it('scheduled runs of the same numbers share a job; other numbers are another job', () => {
    const defaults = { phoneNumbers: [A, B] };
    const id = jobIdOf({}, defaults);
    expect(id).toMatch(/^scheduled-[0-9a-f]{16}$/);
    expect(jobIdOf({}, { phoneNumbers: [A, B] })).toBe(id);
    expect(jobIdOf({}, { phoneNumbers: [A, C] })).not.toBe(id);
    expect(jobIdOf({}, { manifest: 's3://b/k' })).not.toBe(id);
  });

  it('an explicit window is its own job, safe as a key segment', () => {
    const id = jobIdOf({ phoneNumbers: [A], beginTime: '2024-05-01T00:00:00Z' }, {});
    expect(id).toMatch(/^window-[\w.-]+$/);
    expect(id).toContain('now');
    expect(jobIdOf({ phoneNumbers: [A], beginTime: '2024-05-01T00:00:00Z' }, {})).toBe(id);
    expect(jobIdOf({ phoneNumbers: [A], beginTime: '2024-05-02T00:00:00Z' }, {})).not.toBe(id);
    expect(jobIdOf({ phoneNumbers: [B], beginTime: '2024-05-01T00:00:00Z' }, {})).not.toBe(id);
    expect(jobIdOf({ phoneNumbers: [A], beginTime: 1, endTime: 2 }, {})).not.toBe(
      jobIdOf({ phoneNumbers: [A], beginTime: 1 }, {}),
    );
  });

  it('the reconciliation sweep is a job of its own, beside the scheduled job of the same numbers', () => {
    const defaults = { phoneNumbers: [A, B] };
    const sweep = jobIdOf({ reconcile: true }, defaults);
    expect(sweep).toMatch(/^reconcile-[0-9a-f]{16}$/);
    expect(sweep).toBe(jobIdOf({ reconcile: true }, { phoneNumbers: [A, B] }));
    expect(sweep.slice('reconcile-'.length)).toBe(jobIdOf({}, defaults).slice('scheduled-'.length));
    expect(jobIdOf({ reconcile: true }, { phoneNumbers: [A, C] })).not.toBe(sweep);
  });

  it('numbers the request names replace the configured ones: the job is theirs', () => {
    const defaults = { phoneNumbers: [B] };
    expect(jobIdOf({ phoneNumbers: [A] }, defaults)).toBe(jobIdOf({ phoneNumbers: [A] }, {}));
    expect(jobIdOf({ phoneNumbers: [A] }, defaults)).not.toBe(jobIdOf({}, defaults));
    expect(jobIdOf({ manifest: 's3://b/k' }, defaults)).toBe(jobIdOf({ manifest: 's3://b/k' }, { phoneNumbers: [C] }));
  });
});

describe('isScheduled', () => {
  it('only a run with neither a window of its own nor the reconciliation sweep moves the checkpoint', () => {
    expect(isScheduled({})).toBe(true);
    expect(isScheduled({ phoneNumbers: [A], manifest: 's3://b/k' })).toBe(true);
    expect(isScheduled({ beginTime: 1 })).toBe(false);
    expect(isScheduled({ endTime: 2 })).toBe(false);
    expect(isScheduled({ reconcile: true })).toBe(false);
    expect(isScheduled({ reconcile: false })).toBe(true);
  });
});
