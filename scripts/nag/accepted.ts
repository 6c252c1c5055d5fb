// The accepted findings (scripts/nag/accepted.yml): each names one rule and one resource, and says why.
// Judging a run splits its findings into accepted and open, and names the entries that matched nothing:
// a stale acceptance fails the run like an open finding, so none outlives the finding it was written for.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { Finding } from './findings.ts';

export interface Acceptance {
  readonly rule: string;
  /** A logical id, or a prefix ending in `*` for ids the framework suffixes with a hash (Lambda versions). */
  readonly resource: string;
  readonly reason: string;
}

export interface Judgement {
  readonly accepted: Finding[];
  readonly open: Finding[];
  readonly stale: Acceptance[];
}

export const ACCEPTED_FILE = new URL('accepted.yml', import.meta.url);

export async function readAccepted(file: URL = ACCEPTED_FILE): Promise<Acceptance[]> {
  const entries: unknown = parse(await readFile(file, 'utf8'));
  if (!Array.isArray(entries)) throw new Error(`${file.pathname}: expected a list of {rule, resource, reason}`);
  return entries.map((entry, index) => checked(entry, index));
}

function checked(entry: any, index: number): Acceptance {
  for (const field of ['rule', 'resource', 'reason'] as const) {
    if (typeof entry?.[field] !== 'string' || entry[field].trim() === '') {
      throw new Error(`accepted.yml entry ${index + 1}: ${field} must be a non-empty string`);
    }
  }
  return { rule: entry.rule, resource: entry.resource, reason: entry.reason };
}

export function matches(acceptance: Acceptance, finding: Finding): boolean {
  if (acceptance.rule !== finding.rule) return false;
  const { resource } = acceptance;
  return resource.endsWith('*') ? finding.resource.startsWith(resource.slice(0, -1)) : resource === finding.resource;
}

export function judge(findings: Finding[], acceptances: Acceptance[]): Judgement {
  const isAccepted = (f: Finding) => acceptances.some((a) => matches(a, f));
  return {
    accepted: findings.filter(isAccepted),
    open: findings.filter((f) => !isAccepted(f)),
    stale: acceptances.filter((a) => !findings.some((f) => matches(a, f))),
  };
}
