import fs from 'node:fs';
import path from 'node:path';

/**
 * Migrations ANALYZE what they create: a table or index made without fresh statistics leaves the
 * planner guessing until autovacuum comes by (never, where it is off). Holds from the migration
 * that introduced the rule on; the ones before it have landed and are never edited.
 */
const folder = path.join(__dirname, '../../drizzle');
const firstAnalysing = 10;

const migrations = fs
  .readdirSync(folder)
  .filter((name) => /^\d{4}_.*\.sql$/.test(name) && Number(name.slice(0, 4)) >= firstAnalysing)
  .sort();

/** The tables a migration creates, indexes or alters. */
function touchedTables(text: string): string[] {
  const patterns = [
    /create table (?:if not exists )?"?(\w+)"?/gi,
    /create (?:unique )?index (?:concurrently )?(?:if not exists )?"?\w+"? on "?(\w+)"?/gi,
    /alter table "?(\w+)"?/gi,
  ];
  return [...new Set(patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!.toLowerCase())))];
}

function analysedTables(text: string): string[] {
  return [...text.matchAll(/analyze "?(\w+)"?/gi)].map((match) => match[1]!.toLowerCase());
}

it('the rule has migrations to hold', () => {
  expect(migrations.length).toBeGreaterThan(0);
});

it.each(migrations)('%s analyses every table it creates, indexes or alters', (name) => {
  const text = fs.readFileSync(path.join(folder, name), 'utf8');
  const analysed = new Set(analysedTables(text));
  expect(touchedTables(text).filter((table) => !analysed.has(table))).toEqual([]);
});
