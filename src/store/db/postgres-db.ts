import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { renderSql, type SqlFragment } from './sql.js';
import { UniqueViolation, type SqlDb, type SqlExecutor } from './sql-db.js';

export interface PostgresDbOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** Tables live in this schema (created when missing); tests use one per run. */
  schema?: string;
  /** Connections in the pool (default 10). */
  max?: number;
  /** A statement running longer than this is cancelled by the server (default 30 s). */
  statementTimeoutMs?: number;
}

/** How every infrabot connection names itself to PostgreSQL (pg_stat_activity), so `restore` can see a running bot. */
export const applicationName = (schema: string | undefined) => `infrabot:${schema ?? 'public'}`.slice(0, 63);

/**
 * The schema a URL selects with libpq's own parameter, `?options=-c%20search_path%3Dops` (pg_dump and psql
 * understand it too), so one DATABASE_URL names database and schema for every tool.
 */
export function schemaInUrl(url: string): string | undefined {
  try {
    const options = new URL(url).searchParams.get('options') ?? '';
    return /(?:^|\s)-c\s*search_path=("?)([a-z_][a-z0-9_]*)\1(?:\s|$)/i.exec(options)?.[2];
  } catch {
    return undefined;
  }
}

/** A URL with the schema set as libpq's search_path option. */
export function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString().replace(/\+/g, '%20'); // libpq decodes %20, not +
}

const INT8 = 20;
// BIGINT ids and counts come back as numbers, as on SQLite; they stay far below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

const quoteIdent = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`invalid schema name "${name}" (letters, digits and _ only)`);
  return `"${name}"`;
};

function translate(err: unknown): unknown {
  return (err as { code?: string }).code === '23505' ? new UniqueViolation(err) : err;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

function executorOn(client: Queryable): SqlExecutor {
  const query = async (q: SqlFragment) => {
    const { text, values } = renderSql(q, 'postgres');
    try {
      return await client.query(text, values);
    } catch (err) {
      throw translate(err);
    }
  };
  return {
    dialect: 'postgres',
    all: async <T>(q: SqlFragment) => (await query(q)).rows as T[],
    one: async <T>(q: SqlFragment) => (await query(q)).rows[0] as T | undefined,
    run: async (q) => ({ changes: (await query(q)).rowCount ?? 0 }),
    async exec(script) {
      try {
        await client.query(script);
      } catch (err) {
        throw translate(err);
      }
    },
  };
}

/**
 * PostgreSQL behind the unit-of-work port: a pooled client per unit of work, READ COMMITTED. Where two writers
 * meet, store code serializes with `SELECT … FOR UPDATE` or a compare-and-set on a version column.
 */
export async function createPostgresDb(options: PostgresDbOptions): Promise<SqlDb & { readonly pool: pg.Pool }> {
  const schema = options.schema ?? schemaInUrl(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    types,
    application_name: applicationName(schema),
    ...(schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {}),
  });
  pool.on('error', () => undefined); // an idle client's broken connection is replaced on next use
  if (schema) {
    // Replicas starting together race here: IF NOT EXISTS is not atomic, so the loser's "already exists" is success.
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`).catch((err: { code?: string }) => {
      if (err.code !== '23505' && err.code !== '42P06') throw err;
    });
  }
  const context = new AsyncLocalStorage<{ tx: SqlExecutor; client: pg.PoolClient; savepoints: number }>();
  const direct = executorOn(pool);

  async function transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const outer = context.getStore();
    if (outer) {
      // Nested unit of work: a savepoint of the enclosing transaction.
      const name = `uow${++outer.savepoints}`;
      await outer.client.query(`SAVEPOINT ${name}`);
      try {
        const result = await fn(outer.tx);
        await outer.client.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (err) {
        await outer.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw err;
      }
    }
    const client = await pool.connect();
    const tx = executorOn(client);
    try {
      await client.query('BEGIN');
      const result = await context.run({ tx, client, savepoints: 0 }, () => fn(tx));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  const current = () => context.getStore()?.tx ?? direct;
  return {
    dialect: 'postgres',
    pool,
    all: (q) => current().all(q),
    one: (q) => current().one(q),
    run: (q) => current().run(q),
    exec: (script) => current().exec(script),
    transaction,
    close: () => pool.end(),
  };
}
