import { runTogether, withTransaction, type Statement } from '../../src/db/client';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('run_together', 2);
  await db.pool.query(`create table parents (id int primary key, name text not null)`);
  await db.pool.query(`create table children (id int primary key, parent_id int not null references parents (id), size int not null check (size > 0))`);
});
afterAll(async () => db.drop());
beforeEach(async () => db.pool.query('truncate children, parents'));

const parents = (rows: [number, string][]): Statement => ({
  text: `insert into parents (id, name) select * from unnest($1::int[], $2::text[])`,
  values: [rows.map(([id]) => id), rows.map(([, name]) => name)],
});
const children = (rows: [number, number, number][]): Statement => ({
  text: `insert into children (id, parent_id, size) select * from unnest($1::int[], $2::int[], $3::int[])`,
  values: [rows.map(([id]) => id), rows.map(([, parent]) => parent), rows.map(([, , size]) => size)],
});

/** Runs the statements in one transaction and counts the statements sent between begin and commit. */
async function runCounting(statements: (Statement | undefined)[]): Promise<number> {
  return withTransaction(db.pool, async (tx) => {
    const counted = jest.spyOn(tx, 'query');
    try {
      await runTogether(tx, statements);
      return counted.mock.calls.length;
    } finally {
      counted.mockRestore();
    }
  });
}

describe('runTogether', () => {
  it('runs several inserts as one statement, each with its own parameters, children before their parents', async () => {
    const sent = await runCounting([
      children([
        [1, 10, 3],
        [2, 20, 4],
      ]),
      undefined,
      parents([
        [10, 'ten'],
        [20, 'twenty'],
      ]),
    ]);
    expect(sent).toBe(1);
    expect((await db.pool.query('select id, name from parents order by id')).rows).toEqual([
      { id: 10, name: 'ten' },
      { id: 20, name: 'twenty' },
    ]);
    expect((await db.pool.query('select id, parent_id, size from children order by id')).rows).toEqual([
      { id: 1, parent_id: 10, size: 3 },
      { id: 2, parent_id: 20, size: 4 },
    ]);
  });

  it('sends a lone statement as it is and nothing at all when every part is empty', async () => {
    expect(await runCounting([undefined, parents([[1, 'one']])])).toBe(1);
    expect(await runCounting([undefined, undefined])).toBe(0);
    expect((await db.pool.query('select count(*)::int as n from parents')).rows[0].n).toBe(1);
  });

  it('writes nothing of any part when one part fails', async () => {
    await expect(runCounting([parents([[1, 'one']]), children([[1, 1, 0]])])).rejects.toMatchObject({ code: '23514' });
    await expect(runCounting([parents([[1, 'one']]), children([[2, 99, 1]])])).rejects.toMatchObject({ code: '23503' });
    expect((await db.pool.query('select count(*)::int as n from parents')).rows[0].n).toBe(0);
  });
});
