// The delivery report's SQL, one file per section under queries/ (totals.sql, by-day.sql, …), for the
// Athena named queries of resources/athena.yml: keyed by section, as lib/report/sections.ts names them
// (by-day.sql → byDay). Read at package time, so each named query holds exactly its file's text — the
// text `sms-status report` runs through DuckDB.
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const QUERIES = join(__dirname, '..', 'queries');

const section = (file) => file.replace(/\.sql$/, '').replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());

module.exports = () =>
  Object.fromEntries(
    readdirSync(QUERIES)
      .filter((file) => file.endsWith('.sql'))
      .sort()
      .map((file) => [section(file), readFileSync(join(QUERIES, file), 'utf8')]),
  );
