import { present } from '#lib/status/query.ts';
import { InvalidInput } from '#lib/errors.ts';
import { collect, parseManifest, readManifest } from './manifest.ts';
import type { ExportRequest } from './request.ts';
import type { ObjectStore } from '#lib/lake/store.ts';
import type { ManifestProblem, NumberDefaults, NumberReport } from './types.ts';

/** The numbers a run exports: de-duplicated and sorted, with the problems of the lines that were not numbers. */
export interface ResolvedNumbers {
  numbers: string[];
  problems: ManifestProblem[];
  problemCount: number;
  duplicates: number;
}

export const MAX_EVENT_NUMBERS = 10_000;

/**
 * Problems a plan carries: a sample, so the plan stays small as Step Functions state; the run's S3 summary gets them
 * all.
 */
export const PLAN_PROBLEMS = 20;

export function numberReport({ numbers, problems, problemCount, duplicates }: ResolvedNumbers): NumberReport {
  return { total: numbers.length, problems: problems.slice(0, PLAN_PROBLEMS), problemCount, duplicates };
}

/** The request's list and manifest, or the configured ones when it names neither; read and merged. */
export async function resolveNumbers(
  request: ExportRequest,
  defaults: NumberDefaults,
  store: ObjectStore,
  manifestMaxBytes: number,
): Promise<ResolvedNumbers> {
  const fromEvent = present(request.phoneNumbers) || present(request.manifest);
  const list = fromEvent ? request.phoneNumbers : defaults.phoneNumbers;
  const manifest = fromEvent ? request.manifest : defaults.manifest;
  const fromList = collect(listValues(list));
  if (!present(manifest)) {
    if (fromList.numbers.length === 0 && fromList.problemCount === 0) {
      throw new InvalidInput(
        'no phone numbers: give phoneNumbers or manifest, or configure EXPORT_PHONE_NUMBERS / EXPORT_MANIFEST',
        {
          field: 'phoneNumbers',
        },
      );
    }
    return withSome(fromList, 'phoneNumbers');
  }
  const fromManifest = parseManifest(await readManifest(manifest, store, manifestMaxBytes));
  // A broken manifest must not pass for an empty list: the run would move the checkpoint past hours it never pulled.
  if (fromList.numbers.length === 0) withSome(fromManifest, 'manifest');
  const numbers = [...new Set([...fromList.numbers, ...fromManifest.numbers])].sort();
  return {
    numbers,
    problems: [...fromList.problems, ...fromManifest.problems],
    problemCount: fromList.problemCount + fromManifest.problemCount,
    duplicates:
      fromList.numbers.length +
      fromManifest.numbers.length -
      numbers.length +
      fromList.duplicates +
      fromManifest.duplicates,
  };
}

/** The inline list's entries with their positions (1-based, as a manifest's lines); none when absent. */
function listValues(list: unknown): Array<{ line: number; value: unknown }> {
  if (!present(list)) return [];
  if (!Array.isArray(list) || list.length > MAX_EVENT_NUMBERS) {
    throw new InvalidInput(
      `phoneNumbers must be an array of at most ${MAX_EVENT_NUMBERS} E.164 numbers (use a manifest for more)`,
      {
        field: 'phoneNumbers',
      },
    );
  }
  return list.map((value, index) => ({ line: index + 1, value }));
}

/** A list that holds no valid number is refused, naming its first problem: a run of nobody would say complete. */
function withSome(resolved: ResolvedNumbers, field: 'phoneNumbers' | 'manifest'): ResolvedNumbers {
  if (resolved.numbers.length > 0) return resolved;
  const first = resolved.problems[0];
  const why = first ? ` (${resolved.problemCount} problems; line ${first.line}: ${first.reason})` : ' (it is empty)';
  throw new InvalidInput(`${field} holds no valid phone number${why}`, { field });
}
