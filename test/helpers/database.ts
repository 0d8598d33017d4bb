import { Client, type Pool } from 'pg';
import { createPool } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import { baseDatabaseUrl, uniqueName } from './services';

export type TestDatabase = { url: string; name: string; pool: Pool; drop(): Promise<void> };

function adminUrl(): string {
  const url = new URL(baseDatabaseUrl());
  url.pathname = '/postgres';
  return url.toString();
}

async function asAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database of this test file's own; drop() removes it even with clients still attached. */
export async function createTestDatabase(label: string, poolSize = 10): Promise<TestDatabase> {
  const name = uniqueName(label);
  await asAdmin((client) => client.query(`create database "${name}"`));
  const url = new URL(baseDatabaseUrl());
  url.pathname = `/${name}`;
  await migrate(url.toString());
  const pool = createPool(url.toString(), poolSize);
  return {
    url: url.toString(),
    name,
    pool,
    async drop() {
      await pool.end();
      await asAdmin((client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}
