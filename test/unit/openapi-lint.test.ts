/**
 * `npx redocly lint docs/openapi.yaml` with Redocly's recommended rules (redocly.yaml at the root): no
 * error. Its `struct` rule also catches what YAML makes of an unquoted comma inside a flow mapping (the
 * rest of a description becomes a schema keyword). The pinned CLI is run with this Node directly, as
 * npx would, offline: no telemetry, no update check.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/offline.ts';

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location?: Array<{ pointer?: string; start?: { line: number; col: number } }>;
}

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: LintProblem[];
}

function lint(file: string): Promise<{ code: number; report: LintReport; stderr: string }> {
  const cli = join(PROJECT_ROOT, 'node_modules/@redocly/cli/bin/cli.js');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, 'lint', file, '--format=json'],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        try {
          resolve({
            code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
            report: JSON.parse(stdout) as LintReport,
            stderr,
          });
        } catch {
          reject(new Error(`redocly lint printed no report (${error?.message ?? 'exit 0'}):\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

function describeProblems(problems: LintProblem[]): string {
  if (problems.length === 0) return 'no problems';
  return problems
    .map((p) => {
      const at = p.location?.[0];
      const where = at ? `${at.start ? `line ${at.start.line}:${at.start.col} ` : ''}${at.pointer ?? ''}` : '';
      return `${p.severity} ${p.ruleId}: ${p.message} (${where})`;
    })
    .join('\n');
}

it('docs/openapi.yaml passes redocly lint with the recommended rules', async () => {
  const { code, report, stderr } = await lint('docs/openapi.yaml');
  const listed = `${describeProblems(report.problems)}\n${stderr}`;
  // Warnings (none today) do not fail it; the message lists them with the errors.
  expect(report.totals.errors, listed).toBe(0);
  expect(code, listed).toBe(0);
}, 60_000);
