import Database from 'better-sqlite3';
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderSql, type SqlFragment } from './sql.js';
import { UniqueViolation, type SqlDb, type SqlExecutor } from './sql-db.js';

export interface SqliteDbOptions {
  /** File path, or ":memory:" for tests that need no persistence. */
  file: string;
  /** How long a write waits for another process's lock before failing (default 5 s). */
  busyTimeoutMs?: number;
}

export function openSqliteFile(file: string, busyTimeoutMs = 5000): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // FULL syncs the WAL on every commit, so a command answered "done" survives a power loss; group commit
  // (below) spreads that cost over every unit of work that arrived meanwhile.
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('foreign_keys = ON');
  return db;
}

const bindable = (v: unknown): unknown => (v === undefined ? null : v === true ? 1 : v === false ? 0 : v);

function translate(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ? new UniqueViolation(err) : err;
}

/** Statements over one connection, prepared once per text (exported for read-only side connections). */
export function executorOn(conn: Database.Database): SqlExecutor {
  const cache = new Map<string, Database.Statement>();
  const prepare = (q: SqlFragment) => {
    const { text, values } = renderSql(q, 'sqlite');
    let stmt = cache.get(text);
    if (!stmt) cache.set(text, (stmt = conn.prepare(text)));
    return { stmt, values: values.map(bindable) };
  };
  const guarded = <T>(f: () => T): Promise<T> => {
    try {
      return Promise.resolve(f());
    } catch (err) {
      return Promise.reject(translate(err));
    }
  };
  return {
    dialect: 'sqlite',
    all: <T>(q: SqlFragment) =>
      guarded(() => {
        const { stmt, values } = prepare(q);
        if (!stmt.reader) return stmt.run(...values), [] as T[];
        return stmt.all(...values) as T[];
      }),
    one: <T>(q: SqlFragment) =>
      guarded(() => {
        const { stmt, values } = prepare(q);
        if (!stmt.reader) return stmt.run(...values), undefined;
        return stmt.get(...values) as T | undefined;
      }),
    run: (q) =>
      guarded(() => {
        const { stmt, values } = prepare(q);
        return { changes: stmt.run(...values).changes };
      }),
    exec: (script) => guarded(() => void conn.exec(script)),
  };
}

interface Pending {
  fn: (tx: SqlExecutor) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * SQLite behind the unit-of-work port. One connection writes; units of work that arrive while one batch is
 * being written wait and are then written together in one BEGIN IMMEDIATE … COMMIT, each in its own savepoint
 * (group commit): one WAL sync per batch instead of one per command. A unit that throws rolls back only its
 * savepoint; every caller learns its outcome only after COMMIT. Reads outside a unit of work use a second
 * connection (file databases), which sees only committed data and never waits for the writer.
 */
export function createSqliteDb(options: SqliteDbOptions): SqlDb & { readonly handle: Database.Database } {
  const conn = openSqliteFile(options.file, options.busyTimeoutMs);
  const inMemory = options.file === ':memory:';
  const writer = executorOn(conn);
  const readerConn = inMemory ? undefined : new Database(options.file, { readonly: true });
  readerConn?.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  const reader = readerConn ? executorOn(readerConn) : undefined;
  const context = new AsyncLocalStorage<SqlExecutor>();
  let queue: Pending[] = [];
  let writing = false;
  let savepoints = 0;

  async function runInSavepoint<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const name = `uow${++savepoints}`;
    conn.exec(`SAVEPOINT ${name}`);
    try {
      const result = await context.run(writer, () => fn(writer));
      conn.exec(`RELEASE ${name}`);
      return result;
    } catch (err) {
      // Some errors (disk full, I/O) end the whole transaction; then there is no savepoint left to undo.
      if (conn.inTransaction) conn.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      throw err;
    }
  }

  async function drain(): Promise<void> {
    writing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      const outcomes: { item: Pending; ok: boolean; value: unknown }[] = [];
      try {
        conn.exec('BEGIN IMMEDIATE'); // takes the write lock up front: another process's writer waits, never fails mid-way
        for (const item of batch) {
          try {
            outcomes.push({ item, ok: true, value: await runInSavepoint(item.fn) });
          } catch (err) {
            if (!conn.inTransaction) throw err;
            outcomes.push({ item, ok: false, value: err });
          }
        }
        conn.exec('COMMIT');
      } catch (err) {
        if (conn.inTransaction) conn.exec('ROLLBACK');
        for (const item of batch) item.reject(translate(err));
        continue;
      }
      for (const o of outcomes) (o.ok ? o.item.resolve(o.value) : o.item.reject(o.value));
    }
    writing = false;
  }

  const transaction = <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
    // A unit of work started inside another one joins it (as a nested savepoint) instead of waiting for itself.
    if (context.getStore()) return runInSavepoint(fn);
    return new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!writing) {
        writing = true;
        setImmediate(() => void drain());
      }
    });
  };
  // Outside a unit of work: writes join the next batch; reads go to the read connection (or, in memory, wait
  // for the writer so they never see a half-written unit of work).
  const readVia = reader ?? { all: <T>(q: SqlFragment) => transaction((tx) => tx.all<T>(q)), one: <T>(q: SqlFragment) => transaction((tx) => tx.one<T>(q)) };
  const current = () => context.getStore();

  return {
    dialect: 'sqlite',
    handle: conn,
    all: <T>(q: SqlFragment) => (current()?.all<T>(q) ?? readVia.all<T>(q)),
    one: <T>(q: SqlFragment) => (current()?.one<T>(q) ?? readVia.one<T>(q)),
    run: (q) => current()?.run(q) ?? transaction((tx) => tx.run(q)),
    exec: (script) => current()?.exec(script) ?? transaction((tx) => tx.exec(script)),
    transaction,
    async close() {
      while (writing) await new Promise((r) => setImmediate(r)); // never drop a unit of work already handed to us
      readerConn?.close();
      conn.close();
    },
  };
}
