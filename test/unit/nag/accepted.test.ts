// scripts/nag/accepted.ts: what counts as accepted, open and stale, and what an entry must say.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { judge, readAccepted } from '../../../scripts/nag/accepted.ts';

const finding = (rule: string, resource: string) => ({ rule, resource, message: 'm' });

describe('judge', () => {
  it('accepts a finding only by its own rule and resource, and names the entries that match nothing', () => {
    const findings = [finding('AwsSolutions-S1', 'ExportBucket'), finding('AwsSolutions-SQS4', 'ExportFailuresQueue')];
    const acceptances = [
      { rule: 'AwsSolutions-S1', resource: 'ExportBucket', reason: 'r' },
      { rule: 'AwsSolutions-SQS4', resource: 'OtherQueue', reason: 'r' },
      { rule: 'AwsSolutions-S1', resource: 'GoneBucket', reason: 'r' },
    ];
    const { accepted, open, stale } = judge(findings, acceptances);
    expect(accepted).toEqual([findings[0]]);
    expect(open).toEqual([findings[1]]);
    expect(stale.map((a) => a.resource)).toEqual(['OtherQueue', 'GoneBucket']);
  });

  it('matches a trailing * as a prefix of the logical id, and nothing else as a pattern', () => {
    const versions = [finding('CloudFormation-W3011', 'LookupLambdaVersionAbC123')];
    expect(
      judge(versions, [{ rule: 'CloudFormation-W3011', resource: 'LookupLambdaVersion*', reason: 'r' }]).open,
    ).toEqual([]);
    expect(
      judge(versions, [{ rule: 'CloudFormation-W3011', resource: 'Lookup?ambdaVersionAbC123', reason: 'r' }]).open,
    ).toHaveLength(1);
    // An IAM5 finding's id holds its resource: Resource::* does not accept Resource::arn:…/*.
    const iam = [finding('AwsSolutions-IAM5[Resource::arn:aws:s3:::b/*]', 'LookupRole')];
    expect(
      judge(iam, [{ rule: 'AwsSolutions-IAM5[Resource::*]', resource: 'LookupRole', reason: 'r' }]).open,
    ).toHaveLength(1);
  });
});

describe('readAccepted', () => {
  it('refuses an entry without a reason, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nag-accepted-'));
    const file = join(dir, 'accepted.yml');
    await writeFile(file, '- rule: AwsSolutions-S1\n  resource: ExportBucket\n  reason: ""\n');
    await expect(readAccepted(pathToFileURL(file))).rejects.toThrow(
      'accepted.yml entry 1: reason must be a non-empty string',
    );
  });

  it('reads the project’s list, every entry with a reason', async () => {
    const entries = await readAccepted();
    expect(entries.length).toBeGreaterThan(0);
    const keys = entries.map((e) => `${e.rule} ${e.resource}`);
    expect(new Set(keys).size, 'one entry per rule and resource').toBe(keys.length);
  });
});
