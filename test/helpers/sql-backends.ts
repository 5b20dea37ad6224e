import pg from 'pg';
import { describe } from 'vitest';
import { createPostgresDb } from '../../src/store/db/postgres-db.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import { createSqliteDb } from '../../src/store/db/sqlite-db.js';
import { shortId } from '../../src/util/ids.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<boolean> | undefined;

/** True when PostgreSQL answers at TEST_DATABASE_URL. Under CI a missing server fails the run instead of skipping. */
export function postgresReachable(what: string): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 1500 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable.then((ok) => {
    if (!ok) {
      if (process.env.CI === 'true') throw new Error(`${what}: PostgreSQL is not reachable at ${TEST_DATABASE_URL} and CI=true`);
      console.warn(`\n⚠️  SKIPPED ${what} on PostgreSQL: not reachable at ${TEST_DATABASE_URL} — start it (e.g. \`pg_ctlcluster 15 main start\`) to run these tests.\n`);
    }
    return ok;
  });
}

/** A fresh schema on the test server, and a cleanup that drops it with everything in it. */
export async function postgresSchema(): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const schema = `t_${shortId(10).toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
  return {
    url: TEST_DATABASE_URL,
    schema,
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A new empty database (SQLite in memory, or a PostgreSQL schema of its own); closed and dropped by cleanup(). */
  open(): Promise<SqlDb>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const opened: SqlDb[] = [];
  return {
    name: 'sqlite',
    async open() {
      const db = createSqliteDb({ file: ':memory:' });
      opened.push(db);
      return db;
    },
    async cleanup() {
      await Promise.all(opened.splice(0).map((db) => db.close()));
    },
  };
}

function postgresBackend(): Backend {
  const opened: { db: SqlDb; drop(): Promise<void> }[] = [];
  return {
    name: 'postgres',
    async open() {
      const s = await postgresSchema();
      const db = await createPostgresDb({ url: s.url, schema: s.schema, max: 4 });
      opened.push({ db, drop: s.drop });
      return db;
    },
    async cleanup() {
      for (const { db, drop } of opened.splice(0)) {
        await db.close();
        await drop();
      }
    },
  };
}

const pgOk = await postgresReachable('store tests');

/**
 * Runs a suite once per backend: `describe('<name> [sqlite]')` and `describe('<name> [postgres]')`. Each test
 * opens fresh databases with `backend.open()`; call `backend.cleanup()` in afterEach (or afterAll).
 */
export function describeEachBackend(name: string, suite: (backend: Backend) => void): void {
  describe(`${name} [sqlite]`, () => suite(sqliteBackend()));
  (pgOk ? describe : describe.skip)(`${name} [postgres]`, () => suite(postgresBackend()));
}
