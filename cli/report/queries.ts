import { readFile } from 'node:fs/promises';
import { QUERY_FILES, SECTIONS, type Section } from '#lib/report/sections.ts';

/** queries/ at the repository root: the named queries' text (resources/athena.yml reads it too). */
export const QUERIES_DIR = new URL('../../queries/', import.meta.url);

/** Each section's SQL, as the Athena named query holds it. */
export async function reportQueries(): Promise<Record<Section, string>> {
  const texts = await Promise.all(
    SECTIONS.map((section) => readFile(new URL(QUERY_FILES[section], QUERIES_DIR), 'utf8')),
  );
  return Object.fromEntries(SECTIONS.map((section, i) => [section, texts[i] as string])) as Record<Section, string>;
}
