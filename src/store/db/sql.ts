/**
 * A tagged template for SQL that both backends run: values become bound parameters (`?` on SQLite, `$n` on
 * PostgreSQL), never text spliced into the statement, so a value can never change what the statement does.
 */
export type Dialect = 'sqlite' | 'postgres';

export interface SqlFragment {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
}

/** Marks trusted text (identifiers, fixed keywords) for splicing; never pass user input here. */
class Raw {
  constructor(readonly text: string) {}
}

const isFragment = (v: unknown): v is SqlFragment => typeof v === 'object' && v !== null && 'strings' in v && 'values' in v && Array.isArray((v as SqlFragment).strings);

function sqlTag(strings: TemplateStringsArray | readonly string[], ...values: unknown[]): SqlFragment {
  return { strings: [...strings], values };
}

export const sql = Object.assign(sqlTag, {
  raw: (text: string) => new Raw(text),
  /** Joins fragments (or values) with a separator, e.g. a dynamic WHERE from its conditions. */
  join(parts: readonly unknown[], separator = ', '): SqlFragment {
    if (parts.length === 0) return sqlTag(['']);
    const strings = ['', ...Array.from({ length: parts.length - 1 }, () => separator), ''];
    return { strings, values: [...parts] };
  },
  /** An empty fragment, for optional clauses. */
  empty: { strings: [''], values: [] } as SqlFragment,
});

export interface RenderedSql {
  text: string;
  values: unknown[];
}

/** The statement text with the dialect's placeholders and its parameters in order. */
export function renderSql(fragment: SqlFragment, dialect: Dialect): RenderedSql {
  const values: unknown[] = [];
  const walk = (f: SqlFragment): string => {
    let text = f.strings[0] ?? '';
    f.values.forEach((v, i) => {
      if (v instanceof Raw) text += v.text;
      else if (isFragment(v)) text += walk(v);
      else {
        values.push(v);
        text += dialect === 'postgres' ? `$${values.length}` : '?';
      }
      text += f.strings[i + 1] ?? '';
    });
    return text;
  };
  return { text: walk(fragment), values };
}
