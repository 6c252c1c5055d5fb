/**
 * The packaged CloudFormation template for the two things a deployment decides: its share of Tencent's
 * 20 requests/second (TENCENT_RPS_TOTAL, split by config/budget.cjs) and the Glue catalog that lets
 * Athena query the lake right after deploy. Packaging is slow, so this file runs `serverless package`
 * at most three times: once in full (stage prod, TENCENT_RPS_TOTAL=15) and twice with an invalid total,
 * which fails while resolving variables, before anything is built. The defaults are read from the
 * package the test run's global setup made.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_BUILDS, PROJECT_ROOT } from '../../local/offline.ts';
import { exclusivePackaging, packaged as loadPackage, resourcesOfType } from '../support/package.ts';

const ACCOUNT_ID = '123456789012';
const BUCKET = 'acme-sms-exports';
const PREFIX = 'receipts';
/** The JSON keys of an exported record, in the writer's order. */
const KEYS = [
  'serialNo',
  'phoneNumber',
  'countryCode',
  'subscriberNumber',
  'reportStatus',
  'description',
  'userReceiveTime',
  'sdkAppId',
];
const TYPES: Record<string, string> = { userreceivetime: 'bigint' };

interface PackageRun {
  code: number;
  output: string;
  dir: string;
  template?: any;
}

/** `serverless package --stage <stage>` into a temporary folder, successful or not. */
async function slsPackage(stage: string, env: Record<string, string>): Promise<PackageRun> {
  const dir = await mkdtemp(join(tmpdir(), 'sms-status-template-'));
  const workFolder = `${LOCAL_BUILDS}/package-${basename(dir)}`;
  const base = { ...process.env };
  delete base.TENCENT_RPS_TOTAL;
  try {
    const { code, output } = await exclusivePackaging(
      () =>
        new Promise<{ code: number; output: string }>((resolve) => {
          execFile(
            process.execPath,
            [
              join(PROJECT_ROOT, 'node_modules/serverless/bin/serverless.js'),
              'package',
              '--stage',
              stage,
              '--package',
              dir,
            ],
            {
              cwd: PROJECT_ROOT,
              env: { ...base, SLS_TELEMETRY_DISABLED: '1', ESBUILD_WORK_FOLDER: workFolder, ...env },
              timeout: 240_000,
              maxBuffer: 16 * 1024 * 1024,
            },
            (error, stdout, stderr) => {
              const exit = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
              resolve({ code: exit, output: `${stdout}\n${stderr}` });
            },
          );
        }),
    );
    const template =
      code === 0
        ? JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'))
        : undefined;
    return { code, output, dir, template };
  } finally {
    await rm(join(PROJECT_ROOT, workFolder), { recursive: true, force: true });
  }
}

/** The few intrinsic functions these resources use, evaluated as CloudFormation would. */
function evaluate(value: any): any {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(evaluate);
  if ('Ref' in value) return value.Ref === 'AWS::AccountId' ? ACCOUNT_ID : `<Ref ${value.Ref}>`;
  if ('Fn::Join' in value) {
    const [separator, parts] = value['Fn::Join'];
    return (evaluate(parts) as string[]).join(separator);
  }
  if ('Fn::Split' in value) {
    const [delimiter, text] = value['Fn::Split'];
    return (evaluate(text) as string).split(delimiter);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v)]));
}

function lambdaFunctions(template: any): any[] {
  return resourcesOfType(template, 'AWS::Lambda::Function').map(([, r]) => r.Properties);
}

/** Each function's per-instance budget and reserved concurrency, and the sum over every instance. */
function budgets(template: any) {
  const functions = lambdaFunctions(template).filter((f) => f.Environment?.Variables?.TENCENT_RPS_BUDGET !== undefined);
  const byName = Object.fromEntries(
    functions.map((f) => [
      String(f.FunctionName).split('-').at(-1),
      {
        perInstance: Number(f.Environment.Variables.TENCENT_RPS_BUDGET),
        reserved: f.ReservedConcurrentExecutions as number,
      },
    ]),
  );
  let total = 0;
  for (const f of functions) {
    expect(f.ReservedConcurrentExecutions, f.FunctionName).toBeGreaterThan(0);
    total += f.ReservedConcurrentExecutions * Number(f.Environment.Variables.TENCENT_RPS_BUDGET);
  }
  return { byName, total, count: functions.length };
}

function usagePlanThrottle(template: any) {
  return resourcesOfType(template, 'AWS::ApiGateway::UsagePlan')[0]?.[1].Properties.Throttle;
}

/** Every Map state's MaxConcurrency in the state machines. */
function mapConcurrencies(template: any): number[] {
  const found: number[] = [];
  const walk = (node: any): void => {
    if (typeof node !== 'object' || node === null) return;
    if (node.Type === 'Map') found.push(node.MaxConcurrency);
    for (const child of Object.values(node)) walk(child);
  };
  for (const [, r] of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
    const definition = r.Properties.DefinitionString;
    const text: string = typeof definition === 'string' ? definition : definition['Fn::Sub'][0];
    walk(JSON.parse(text.replace(/\$\{[^}]+\}/g, 'placeholder')));
  }
  return found;
}

let prod: PackageRun;
let tooHigh: PackageRun;
let notANumber: PackageRun;
let dev: any;

beforeAll(async () => {
  // One at a time: concurrent `serverless package` runs in one project trip each other.
  tooHigh = await slsPackage('prod', { TENCENT_RPS_TOTAL: '25' });
  notANumber = await slsPackage('prod', { TENCENT_RPS_TOTAL: 'abc' });
  prod = await slsPackage('prod', { TENCENT_RPS_TOTAL: '15', EXPORT_BUCKET: BUCKET, EXPORT_PREFIX: PREFIX });
  if (prod.code !== 0)
    throw new Error(`serverless package (stage prod, TENCENT_RPS_TOTAL=15) failed:\n${prod.output.slice(-4000)}`);
  dev = (await loadPackage(inject('stack').packages.plain)).template;
}, 480_000);

afterAll(async () => {
  await Promise.all(
    [prod, tooHigh, notANumber].filter(Boolean).map((run) => rm(run.dir, { recursive: true, force: true })),
  );
});

describe('TENCENT_RPS_TOTAL: the deployment share of the 20 requests/second', () => {
  it('15 for prod: every instance that can run stays within 15, split 8:12 as before', () => {
    const { byName, total, count } = budgets(prod.template);
    expect(count).toBe(2);
    expect(total).toBeLessThanOrEqual(15);
    expect(total).toBeCloseTo(15, 6);
    expect(byName.lookup).toEqual({ perInstance: 3, reserved: 2 });
    expect(byName.export).toEqual({ perInstance: 9, reserved: 1 });
  });

  it('15 for prod: the usage plan throttles at the lookup share, and the workflows run one export at a time', () => {
    const { byName } = budgets(prod.template);
    const lookupShare = byName.lookup.perInstance * byName.lookup.reserved;
    const throttle = usagePlanThrottle(prod.template);
    expect(throttle.RateLimit).toBe(lookupShare);
    expect(throttle.BurstLimit).toBeLessThanOrEqual(lookupShare);
    expect(throttle.BurstLimit).toBeGreaterThanOrEqual(1);
    expect(Number.isInteger(throttle.BurstLimit)).toBe(true);
    const concurrencies = mapConcurrencies(prod.template);
    expect(concurrencies.length).toBeGreaterThan(0);
    for (const c of concurrencies) expect(c).toBe(byName.export.reserved);
  });

  it('defaults to 20', () => {
    const { byName, total } = budgets(dev);
    expect(total).toBe(20);
    expect(byName.lookup).toEqual({ perInstance: 4, reserved: 2 });
    expect(byName.export).toEqual({ perInstance: 12, reserved: 1 });
    expect(usagePlanThrottle(dev)).toEqual({ RateLimit: 8, BurstLimit: 8 });
  });

  it('over 20 fails packaging, naming the variable and the value', () => {
    expect(tooHigh.code).not.toBe(0);
    expect(tooHigh.template).toBeUndefined();
    expect(tooHigh.output).toMatch(/TENCENT_RPS_TOTAL must be a number [^\n]*at most 20[^\n]*got "25"/);
  });

  it('not a number fails packaging, naming the variable and the value', () => {
    expect(notANumber.code).not.toBe(0);
    expect(notANumber.template).toBeUndefined();
    expect(notANumber.output).toMatch(/TENCENT_RPS_TOTAL must be a number [^\n]*got "abc"/);
  });
});

describe('Glue catalog over the lake', () => {
  function glue(template: any) {
    const databases = resourcesOfType(template, 'AWS::Glue::Database');
    const tables = resourcesOfType(template, 'AWS::Glue::Table');
    expect(databases).toHaveLength(1);
    expect(tables).toHaveLength(1);
    const [[databaseId, database]] = databases as [[string, any]];
    const [[, table]] = tables as [[string, any]];
    return { databaseId, database: database.Properties, raw: table.Properties, table: evaluate(table.Properties) };
  }

  it('creates the database sms_status_<stage>, with any - of the stage as _', () => {
    const { database } = glue(prod.template);
    expect(evaluate(database)).toMatchObject({ CatalogId: ACCOUNT_ID, DatabaseInput: { Name: 'sms_status_prod' } });
    expect(evaluate(glue(dev).database).DatabaseInput.Name).toBe('sms_status_dev');
    // The same expression for a stage with hyphens.
    const name = database.DatabaseInput.Name;
    const hyphenated = JSON.parse(JSON.stringify(name).replace('sms_status_prod', 'sms_status_eu-prod-2'));
    expect(evaluate(hyphenated)).toBe('sms_status_eu_prod_2');
  });

  it('creates the external table delivery_statuses over <bucket>/<prefix>/statuses/, in that database', () => {
    const { databaseId, raw, table } = glue(prod.template);
    expect(raw.DatabaseName).toEqual({ Ref: databaseId });
    expect(table.CatalogId).toBe(ACCOUNT_ID);
    const input = table.TableInput;
    expect(input.Name).toBe('delivery_statuses');
    expect(input.TableType).toBe('EXTERNAL_TABLE');
    expect(input.PartitionKeys.map(({ Name, Type }: any) => ({ Name, Type }))).toEqual([
      { Name: 'dt', Type: 'string' },
    ]);
    expect(input.StorageDescriptor.Location).toBe(`s3://${BUCKET}/${PREFIX}/statuses/`);
    expect(input.StorageDescriptor.InputFormat).toBe('org.apache.hadoop.mapred.TextInputFormat');
    expect(input.StorageDescriptor.OutputFormat).toBe('org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat');
    // The default package: the default bucket name for stage dev and the default prefix.
    expect(glue(dev).table.TableInput.StorageDescriptor.Location).toBe(
      's3://sms-status-dev-exports/sms-status/statuses/',
    );
  });

  it('projects the dt partitions by day, so new days need no crawler or repair', () => {
    const parameters = glue(prod.template).table.TableInput.Parameters;
    expect(parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': `s3://${BUCKET}/${PREFIX}/statuses/dt=\${dt}/`,
    });
    expect(parameters['projection.dt.range']).toMatch(/^\d{4}-\d{2}-\d{2},NOW$/);
  });

  it('reads the camelCase JSON keys into lower-case columns through OpenX SerDe mappings', () => {
    const { StorageDescriptor } = glue(prod.template).table.TableInput;
    expect(StorageDescriptor.Columns.map(({ Name, Type }: any) => ({ Name, Type }))).toEqual(
      KEYS.map((key) => ({ Name: key.toLowerCase(), Type: TYPES[key.toLowerCase()] ?? 'string' })),
    );
    const serde = StorageDescriptor.SerdeInfo;
    expect(serde.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    // Athena's rule: with case.insensitive FALSE, every key that is not all lower case needs mapping.<column>.
    const mappings = Object.fromEntries(
      Object.entries(serde.Parameters as Record<string, string>).filter(([k]) => k.startsWith('mapping.')),
    );
    const camelCase = KEYS.filter((key) => key !== key.toLowerCase());
    expect(camelCase).toHaveLength(7);
    expect(mappings).toEqual(Object.fromEntries(camelCase.map((key) => [`mapping.${key.toLowerCase()}`, key])));
    expect(serde.Parameters['case.insensitive']).toBe('FALSE');
    expect(serde.Parameters['ignore.malformed.json'] ?? 'FALSE').toBe('FALSE');
  });
});

describe('the export’s schedules and workflow state', () => {
  function schedules(template: any): any[] {
    return resourcesOfType(template, 'AWS::Scheduler::Schedule').map(([, r]) => r.Properties);
  }

  it('runs the hourly export and a daily reconciliation sweep of the last 72 h, each with its own input', () => {
    const inputs = schedules(dev).map((s) => ({
      rate: s.ScheduleExpression,
      input: JSON.parse(s.Target.Input ?? '{}'),
    }));
    expect(inputs).toEqual(
      expect.arrayContaining([
        { rate: 'rate(1 hour)', input: { schedule: 'hourly' } },
        { rate: 'rate(1 day)', input: { schedule: 'reconcile' } },
      ]),
    );
    const exportFunction = lambdaFunctions(dev).find((f) => String(f.FunctionName).endsWith('-export'));
    expect(exportFunction.Environment.Variables).toMatchObject({
      EXPORT_RECONCILE_SECONDS: '259200',
      EXPORT_STUCK_AFTER_RUNS: '3',
    });
  });

  it('keeps the plan alone as the Plan state’s output, so inline numbers never ride beside it through the Map', () => {
    for (const [, r] of resourcesOfType(dev, 'AWS::StepFunctions::StateMachine')) {
      const definition = r.Properties.DefinitionString;
      const text: string = typeof definition === 'string' ? definition : definition['Fn::Sub'][0];
      const states = JSON.parse(text.replace(/\$\{[^}]+\}/g, 'placeholder')).States;
      if (!states.Plan) continue;
      expect(states.Plan.Next).toBe('ExportShards');
      expect(states.Plan.ResultSelector).toEqual({ 'plan.$': '$' });
      expect(states.Plan.ResultPath).toBeUndefined();
    }
  });
});
