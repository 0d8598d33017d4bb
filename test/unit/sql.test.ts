import { isOneOf, join, raw, sql, toQuery, whereAll } from '../../src/db/sql';

describe('the sql builder', () => {
  it('numbers parameters in the order they appear, across nested pieces', () => {
    const inner = sql`b = ${2} and c = ${3}`;
    expect(toQuery(sql`select * from t where a = ${1} and ${inner} and d = ${4}`)).toEqual({
      text: 'select * from t where a = $1 and b = $2 and c = $3 and d = $4',
      values: [1, 2, 3, 4],
    });
  });

  it('keeps an array as one parameter, as unnest and any() need', () => {
    expect(toQuery(sql`select * from unnest(${['a', 'b']}::text[], ${[1, 2]}::int[])`)).toEqual({
      text: 'select * from unnest($1::text[], $2::int[])',
      values: [
        ['a', 'b'],
        [1, 2],
      ],
    });
  });

  it('joins pieces with a separator and takes raw text as it is', () => {
    const parts = [sql`x = ${'one'}`, sql`y = ${'two'}`, sql`z`];
    expect(toQuery(sql`select ${raw('id')} from t where ${join(parts, ' or ')}`)).toEqual({
      text: 'select id from t where x = $1 or y = $2 or z',
      values: ['one', 'two'],
    });
    expect(toQuery(join([], ', '))).toEqual({ text: '', values: [] });
  });

  it('builds a where clause from the conditions given, or none', () => {
    expect(toQuery(sql`select 1 from t ${whereAll([sql`a = ${1}`, sql`b < ${2}`])}`)).toEqual({
      text: 'select 1 from t where a = $1 and b < $2',
      values: [1, 2],
    });
    expect(toQuery(sql`select 1 from t ${whereAll([])}`)).toEqual({ text: 'select 1 from t ', values: [] });
  });

  it('tests a column against one value with = and against several with = any', () => {
    expect(toQuery(sql`s ${isOneOf(['OPEN'])}`)).toEqual({ text: 's = $1', values: ['OPEN'] });
    expect(toQuery(sql`s ${isOneOf(['OPEN', 'CANCELLED'])}`)).toEqual({ text: 's = any($1::text[])', values: [['OPEN', 'CANCELLED']] });
  });

  it('gives the same statement each time it is built', () => {
    const statement = sql`insert into t select * from unnest(${[1]}::int[])`;
    expect(toQuery(statement)).toEqual(toQuery(statement));
  });
});
