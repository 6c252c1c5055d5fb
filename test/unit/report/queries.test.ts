/**
 * The queries/*.sql files as Athena will take them: one per section, over delivery_statuses, each with
 * the four execution parameters in the documented order and nothing an Athena named query refuses.
 */
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { QUERY_FILES, SECTIONS } from '#lib/report/sections.ts';
import { QUERIES_DIR } from '../../../cli/report/queries.ts';

const texts = await Promise.all(
  SECTIONS.map(
    async (section) => [section, await readFile(new URL(QUERY_FILES[section], QUERIES_DIR), 'utf8')] as const,
  ),
);
const WINDOW =
  "WHERE dt BETWEEN date_format(from_unixtime(?), '%Y-%m-%d') AND date_format(from_unixtime(? - 1), '%Y-%m-%d')\n";

describe('queries/', () => {
  it('holds exactly one .sql file per section', async () => {
    const files = (await readdir(QUERIES_DIR)).sort();
    expect(files).toEqual(Object.values(QUERY_FILES).sort());
  });

  for (const [section, sql] of texts) {
    describe(`${QUERY_FILES[section]} (${section})`, () => {
      const code = sql.replace(/--.*$/gm, '');

      it('reads delivery_statuses, pruned by dt and bounded to [begin, end) on userreceivetime', () => {
        expect(code).toMatch(/\bFROM delivery_statuses\b/);
        expect(code).toContain(WINDOW);
        expect(code).toMatch(/AND userreceivetime >= \? AND userreceivetime < \?\n/);
      });

      it('has four ? markers (begin, end, begin, end), none in a comment, one statement, no ${…} for Serverless', () => {
        expect(code.match(/\?/g)).toHaveLength(4);
        expect(sql.match(/\?/g)).toHaveLength(4);
        expect(sql).toContain('Execution parameters, in this order: begin, end, begin, end.');
        expect(sql.trimEnd().endsWith(';')).toBe(false);
        expect(code).not.toContain(';');
        expect(sql).not.toContain('${');
      });

      it("places every ? in a WHERE clause, the only place Athena's execution parameters may stand", () => {
        const clauses = [...code.matchAll(/\b(SELECT|FROM|WHERE|GROUP BY|HAVING|ORDER BY|LIMIT)\b|\?/g)];
        let clause = '';
        for (const [token] of clauses) {
          if (token === '?') expect(clause).toBe('WHERE');
          else clause = token;
        }
      });

      it('uses only lower-case aliases (Athena answers column names in lower case)', () => {
        for (const [, alias] of code.matchAll(/\bAS (\w+)/g)) {
          if (!['double', 'counts', 'days', 'countries'].includes(alias as string))
            expect(alias).toBe(alias?.toLowerCase());
        }
      });
    });
  }
});
