/**
 * The Athena side of the delivery report, read from the packaged templates the test run's global setup
 * made (default parameters, and EXPORT_BUCKET=acme-sms-exports / EXPORT_PREFIX=receipts): the workgroup,
 * where its results go and how they are encrypted and expired, and one named query per report section
 * whose text is exactly its queries/*.sql file. (With KMS_KEY_ARN: template-operations.test.ts.)
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { QUERY_FILES, SECTIONS } from '#lib/report/sections.ts';
import { GLUE_COLUMNS } from '../../cli/report/lake-table.ts';
import { QUERIES_DIR } from '../../cli/report/queries.ts';
import { packaged, resolveIf, resourcesOfType, type Packaged } from '../support/package.ts';

/** The named query of each section, by logical id (resources/athena.yml). */
const QUERY_RESOURCES = {
  totals: 'ReportTotalsQuery',
  byDay: 'ReportByDayQuery',
  byCountry: 'ReportByCountryQuery',
  topFailures: 'ReportTopFailuresQuery',
  repeatFailures: 'ReportRepeatFailuresQuery',
} as const;

let plain: Packaged;
let withSecret: Packaged;
const files = new Map<string, string>();

beforeAll(async () => {
  plain = await packaged(inject('stack').packages.plain);
  withSecret = await packaged(inject('stack').packages.withSecret);
  for (const section of SECTIONS)
    files.set(section, await readFile(new URL(QUERY_FILES[section], QUERIES_DIR), 'utf8'));
});

const workGroup = (p: Packaged): any => {
  const groups = resourcesOfType(p.template, 'AWS::Athena::WorkGroup');
  expect(groups).toHaveLength(1);
  return resolveIf(p.template, groups[0]?.[1].Properties);
};

describe('the workgroup sms-status-<stage>', () => {
  it('is named for the stage, runs engine 3 (Trino) and enforces its configuration', () => {
    const group = workGroup(plain);
    expect(group.Name).toBe('sms-status-dev');
    expect(group.State).toBe('ENABLED');
    expect(group.WorkGroupConfiguration.EnforceWorkGroupConfiguration).toBe(true);
    expect(group.WorkGroupConfiguration.EngineVersion.SelectedEngineVersion).toBe('Athena engine version 3');
  });

  it('writes results under <EXPORT_PREFIX>/_athena/ in the export bucket, SSE-S3 without a key', () => {
    expect(workGroup(plain).WorkGroupConfiguration.ResultConfiguration).toEqual({
      OutputLocation: 's3://sms-status-dev-exports/sms-status/_athena/',
      EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
    });
    expect(workGroup(withSecret).WorkGroupConfiguration.ResultConfiguration.OutputLocation).toBe(
      's3://acme-sms-exports/receipts/_athena/',
    );
  });

  it('has its results expire: a lifecycle rule of the export bucket on exactly that folder', () => {
    const rules = withSecret.template.Resources.ExportBucket.Properties.LifecycleConfiguration.Rules as any[];
    const athena = rules.filter((r) => r.Prefix === 'receipts/_athena/');
    expect(athena).toHaveLength(1);
    expect(athena[0].Status).toBe('Enabled');
    expect(Number(athena[0].ExpirationInDays)).toBeGreaterThan(0);
    expect(Number(athena[0].ExpirationInDays)).toBeLessThanOrEqual(30);
  });
});

describe('one named query per report section', () => {
  it('five AWS::Athena::NamedQuery, one per section, and no other', () => {
    const ids = resourcesOfType(plain.template, 'AWS::Athena::NamedQuery')
      .map(([id]) => id)
      .sort();
    expect(ids).toEqual(Object.values(QUERY_RESOURCES).sort());
  });

  for (const section of SECTIONS) {
    it(`${QUERY_RESOURCES[section]}: the text of queries/${QUERY_FILES[section]}, over delivery_statuses, in the lake's database and the workgroup`, () => {
      for (const p of [plain, withSecret]) {
        const query = p.template.Resources[QUERY_RESOURCES[section]].Properties;
        expect(query.QueryString).toBe(files.get(section));
        expect(query.QueryString).toMatch(/\bFROM delivery_statuses\b/);
        expect(query.Database).toEqual({ Ref: 'LakeDatabase' });
        expect(query.WorkGroup).toEqual({ Ref: 'ReportWorkGroup' });
        expect(query.Description).toContain('Parameters: begin, end, begin, end');
      }
    });
  }

  it("DuckDB's delivery_statuses (sms-status report) has the Glue table's columns, types and key mappings", () => {
    const [[, table]] = resourcesOfType(plain.template, 'AWS::Glue::Table') as [[string, any]];
    const { Columns, SerdeInfo } = table.Properties.TableInput.StorageDescriptor;
    const types: Record<string, string> = { string: 'VARCHAR', bigint: 'BIGINT' };
    expect(GLUE_COLUMNS.map(({ column, type }) => [column, type])).toEqual(
      Columns.map((c: { Name: string; Type: string }) => [c.Name, types[c.Type]]),
    );
    for (const { column, key } of GLUE_COLUMNS)
      expect(SerdeInfo.Parameters[`mapping.${column}`] ?? column, column).toBe(key);
    expect(table.Properties.TableInput.PartitionKeys).toEqual([
      expect.objectContaining({ Name: 'dt', Type: 'string' }),
    ]);
  });

  it("the queries' database is the Glue database that holds delivery_statuses", () => {
    const [[, table]] = resourcesOfType(plain.template, 'AWS::Glue::Table') as [[string, any]];
    expect(table.Properties.DatabaseName).toEqual({ Ref: 'LakeDatabase' });
    expect(table.Properties.TableInput.Name).toBe('delivery_statuses');
  });
});
