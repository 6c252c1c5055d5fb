/**
 * Configuration in one place: config/defaults.cjs holds every variable's default, and the tables that
 * state defaults (README.md's Configuration table, and any `| variable | meaning | default |` table under
 * docs/) say the same. README.md's table lists every variable but those marked `documented: false` (in
 * PRODUCT.md, not implemented yet). And nothing Serverless reads writes a default of its own: every
 * variable reaches serverless.yml through config/params.cjs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import DEFAULTS from '../../config/defaults.cjs';
import { PROJECT_ROOT } from '../../local/offline.ts';

interface Setting {
  default?: string | number | boolean;
  deployDefault?: string;
  documented?: boolean;
}

const SETTINGS: Record<string, Setting> = DEFAULTS;
const read = (path: string): string => readFileSync(join(PROJECT_ROOT, path), 'utf8');

interface Row {
  line: number;
  variables: string[];
  /** The default cell's statement for each variable, in order. */
  stated: string[];
}

/** `text` cut at each top-level `separator` (not inside parentheses or backticks). */
function splitTopLevel(text: string, separators: string[]): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '`') quoted = !quoted;
    else if (!quoted && c === '(') depth += 1;
    else if (!quoted && c === ')') depth -= 1;
    const separator = depth === 0 && !quoted ? separators.find((s) => text.startsWith(s, i)) : undefined;
    if (separator !== undefined) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
      i = start - 1;
    }
  }
  return [...parts, text.slice(start)];
}

/** The rows of every `| variable | meaning | default |` table in `markdown`. */
function configurationRows(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const rows: Row[] = [];
  let inTable = false;
  lines.forEach((text, index) => {
    if (/^\|\s*variable\s*\|\s*meaning\s*\|\s*default\s*\|\s*$/.test(text)) inTable = true;
    else if (!text.startsWith('|')) inTable = false;
    else if (inTable && !/^\|[-|\s]+\|$/.test(text)) {
      const cells = text.slice(1, -1).split(' | ');
      const variables = [...(cells[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] as string);
      const parts = splitTopLevel((cells.at(-1) ?? '').trim(), [', ', ' / ']);
      const stated = parts.length === 1 ? variables.map(() => parts[0] as string) : parts;
      rows.push({ line: index + 1, variables, stated });
    }
  });
  return rows;
}

/** What a table should say: the default, or where only a deployment has one, the deployed default. */
function expected(setting: Setting): string {
  const value = setting.default ?? setting.deployDefault;
  return value === undefined ? '—' : String(value);
}

/** The value a statement gives, without its gloss: `` `ap-guangzhou` ``, `259200 (72 h)`, `— (SSE-S3)`. */
function valueOf(statement: string): string | undefined {
  const match = /^(`[^`]*`|[^\s(]+)(?:\s+\(.*\))?$/.exec(statement.trim());
  return match?.[1]?.replaceAll('`', '');
}

/** Every disagreement between the tables in `markdown` and config/defaults.cjs, one line each. */
function disagreements(file: string, markdown: string, settings = SETTINGS): string[] {
  return configurationRows(markdown).flatMap(({ line, variables, stated }) => {
    const at = `${file}:${line}:`;
    if (variables.length === 0) return [`${at} a row names no variable`];
    if (stated.length !== variables.length) {
      return [`${at} ${stated.length} defaults for ${variables.length} variables`];
    }
    return variables.flatMap((name, i) => {
      const setting = settings[name];
      if (setting === undefined) return [`${at} ${name} is not in config/defaults.cjs`];
      if (setting.documented === false) return [`${at} ${name} is marked documented: false in config/defaults.cjs`];
      const value = valueOf(stated[i] as string);
      if (value === expected(setting)) return [];
      return [`${at} ${name} says ${stated[i]}, config/defaults.cjs ${expected(setting)}`];
    });
  });
}

/** Variables config/defaults.cjs documents that README.md's Configuration table lacks, and any listed twice. */
function incompleteness(readme: string): string[] {
  const section = readme.slice(readme.indexOf('\n## Configuration\n'));
  const listed = configurationRows(section.slice(0, section.indexOf('\n## ', 1))).flatMap((row) => row.variables);
  const twice = listed.filter((name, i) => listed.indexOf(name) !== i).map((name) => `${name} is listed twice`);
  const missing = Object.entries(SETTINGS)
    .filter(([name, setting]) => setting.documented !== false && !listed.includes(name))
    .map(([name]) => `${name} is missing from README.md's Configuration table`);
  return [...twice, ...missing];
}

const README = read('README.md');
const DOCS = readdirSync(join(PROJECT_ROOT, 'docs'))
  .filter((file) => file.endsWith('.md'))
  .map((file) => `docs/${file}`);

describe("README.md's Configuration table and config/defaults.cjs", () => {
  it('state the same default for every variable', () => {
    expect(disagreements('README.md', README)).toEqual([]);
  });

  it('list the same variables', () => {
    expect(incompleteness(README)).toEqual([]);
  });

  it('agree with every configuration table under docs/', () => {
    expect(DOCS.length).toBeGreaterThan(0);
    expect(DOCS.flatMap((file) => disagreements(file, read(file)))).toEqual([]);
  });

  it('fail on a changed default, an unknown variable, a missing row or a row for one not implemented', () => {
    const retention = README.replace(/(\| `EXPORT_RETENTION_DAYS` \|.*\| )400 \|/, '$1365 |');
    expect(disagreements('README.md', retention)).toEqual([
      expect.stringContaining('EXPORT_RETENTION_DAYS says 365, config/defaults.cjs 400'),
    ]);
    expect(disagreements('README.md', README.replace('`ap-guangzhou` |', '`ap-beijing` |'))).toHaveLength(1);
    expect(disagreements('README.md', README.replace('| 3000, 3002, 4569, 9000 |', '| 3000, 3002, 4569 |'))).toEqual([
      expect.stringContaining('3 defaults for 4 variables'),
    ]);
    expect(disagreements('README.md', README.replace('`TENCENT_TIMEOUT_MS`', '`TENCENT_TIMEOUT_SECONDS`'))).toEqual([
      expect.stringContaining('TENCENT_TIMEOUT_SECONDS is not in config/defaults.cjs'),
    ]);
    const withoutRow = README.split('\n')
      .filter((line) => !line.startsWith('| `ALARM_EMAIL`'))
      .join('\n');
    expect(incompleteness(withoutRow)).toEqual(["ALARM_EMAIL is missing from README.md's Configuration table"]);
    // Every variable is implemented today, so one that is not yet stands in.
    const pending = { ...SETTINGS, NOT_YET: { default: 1, documented: false } };
    const unimplemented = README.replace(
      /^\| `ALARM_EMAIL` \|(.*)\| — \(no topic\) \|$/m,
      '| `ALARM_EMAIL`, `NOT_YET` |$1| —, 1 |',
    );
    expect(disagreements('README.md', unimplemented, pending)).toEqual([
      expect.stringContaining('NOT_YET is marked documented: false'),
    ]);
  });
});

describe('Serverless reads every default from config/defaults.cjs', () => {
  // Only the test machinery's build folder, which is no configuration of the product.
  const ALLOWED = new Set(['ESBUILD_WORK_FOLDER']);
  const files = ['serverless.yml', ...readdirSync(join(PROJECT_ROOT, 'resources')).map((file) => `resources/${file}`)];

  it('no ${env:NAME, default} in serverless.yml or resources/: the variables come through config/params.cjs', () => {
    const fallbacks = files.flatMap((file) =>
      [...read(file).matchAll(/\$\{env:([A-Z0-9_]+)\s*,\s*([^}]*)\}/g)]
        .filter(([, name, fallback]) => !ALLOWED.has(name as string) && fallback?.trim() !== 'null')
        .map(([text]) => `${file}: ${text}`),
    );
    expect(fallbacks).toEqual([]);
  });
});
