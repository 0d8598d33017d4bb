import path from 'node:path';
import { Client } from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as runMigrations } from 'drizzle-orm/node-postgres/migrator';
import { loadConfig } from '../config';
import { packageRoot } from '../package';
import { pgCode } from './pg-errors';

export const migrationsFolder = path.join(packageRoot, 'drizzle');

/** Creates the database named in the URL when it does not exist yet (connecting to `postgres` to do it). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name) return;
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    const existing = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (existing.rowCount === 0) {
      await admin.query(`create database "${name.replace(/"/g, '""')}"`).catch((error: unknown) => {
        if (pgCode(error) !== '42P04') throw error; // another process created it first
      });
    }
  } finally {
    await admin.end();
  }
}

/** Applies every migration in drizzle/ (or `folder`) that the database has not seen; safe to run from many processes. */
export async function migrate(databaseUrl: string, folder = migrationsFolder): Promise<void> {
  await ensureDatabase(databaseUrl);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // One migrator at a time when several processes start together.
    await client.query('select pg_advisory_lock(727274)');
    await runMigrations(drizzle(client), { migrationsFolder: folder });
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  const config = loadConfig();
  migrate(config.DATABASE_URL)
    .then(() => process.stdout.write(`migrations applied to ${new URL(config.DATABASE_URL).pathname.slice(1)}\n`))
    .catch((error: unknown) => {
      process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
}
