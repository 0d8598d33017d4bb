import { translatePgError } from '../../src/db/pg-errors';
import { AppError } from '../../src/errors';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('pg-errors');
});
afterAll(async () => db.drop());

/** What Postgres itself answers to a statement, translated as the edge translates it. */
async function refusalOf(sql: string, values: unknown[]): Promise<unknown> {
  try {
    await db.pool.query(sql, values);
  } catch (error) {
    return translatePgError(error);
  }
  throw new Error(`Postgres accepted ${sql}`);
}

describe('data Postgres cannot store (SQLSTATE class 22)', () => {
  it.each([
    ['NUL in text', 'select $1::text', ['a\u0000b'], '22021'],
    ['a lone surrogate escaped in JSON', 'select $1::jsonb', ['{"name":"\\ud800"}'], '22P02'],
    ['NUL escaped in JSON, read as text', "select ($1::jsonb)->>'name'", ['{"name":"a\\u0000b"}'], '22P05'],
    ['text that is not a uuid', 'select $1::uuid', ["' or 1=1 --"], '22P02'],
    ['a number beyond integer', 'select $1::int', ['99999999999'], '22003'],
    ['a timestamp out of range', 'select $1::timestamptz', ['294277-01-01T00:00:00Z'], '22008'],
  ])('maps %s to a 400 that names the problem but not the value', async (_what, sql, values, sqlstate) => {
    const translated = await refusalOf(sql, values);
    expect(translated).toBeInstanceOf(AppError);
    const body = (translated as AppError).toBody();
    expect({ status: (translated as AppError).status, code: body.error.code, details: body.error.details }).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      details: { sqlstate },
    });
    expect(JSON.stringify(body)).not.toMatch(/or 1=1|99999999999|294277/);
  });

  it('leaves errors outside class 22 to their own mapping', async () => {
    const translated = await refusalOf('select * from no_such_table', []);
    expect(translated).not.toBeInstanceOf(AppError);
  });
});
