/**
 * SQL as composable values: `sql` keeps the text and its values apart, a nested Sql is inlined, and
 * parameters are numbered only when a whole statement is built (toQuery), so statements combine
 * without renumbering anyone's `$n`.
 */

const SQL = Symbol('sql');

/** A piece of SQL: text around its values (each value a parameter, or a nested Sql inlined). */
export type Sql = { readonly [SQL]: true; readonly strings: readonly string[]; readonly values: readonly unknown[] };

/** A statement ready for the driver. */
export type Query = { text: string; values: unknown[] };

/** Tags SQL text; `${value}` becomes a parameter (arrays stay one parameter), `${otherSql}` is inlined. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  return { [SQL]: true, strings, values };
}

/** Text taken as it is: for identifiers chosen by code, never for input. */
export function raw(text: string): Sql {
  return { [SQL]: true, strings: [text], values: [] };
}

/** The pieces one after another with `separator` between them. */
export function join(pieces: readonly Sql[], separator: string): Sql {
  // text before the first piece, a separator between two, nothing after the last
  const strings = pieces.length === 0 ? [''] : ['', ...pieces.slice(1).map(() => separator), ''];
  return { [SQL]: true, strings, values: pieces };
}

/** `where` with the conditions joined by `and`, or nothing when there is none. */
export function whereAll(conditions: readonly Sql[]): Sql {
  return conditions.length === 0 ? raw('') : sql`where ${join(conditions, ' and ')}`;
}

/**
 * The test of a text column against a list: `= value` for one value, whose index scan keeps the
 * index's order (`= any(…)` of several does not), else `= any(values)`.
 */
export function isOneOf(values: readonly string[]): Sql {
  return values.length === 1 ? sql`= ${values[0]}` : sql`= any(${values}::text[])`;
}

function isSql(value: unknown): value is Sql {
  return typeof value === 'object' && value !== null && SQL in value;
}

/** Numbers the parameters $1, $2, … in the order they appear. */
export function toQuery(statement: Sql): Query {
  const values: unknown[] = [];
  let text = '';
  const emit = (piece: Sql): void => {
    piece.strings.forEach((chunk, index) => {
      text += chunk;
      if (index >= piece.values.length) return;
      const value = piece.values[index];
      if (isSql(value)) emit(value);
      else {
        values.push(value);
        text += `$${values.length}`;
      }
    });
  };
  emit(statement);
  return { text, values };
}
