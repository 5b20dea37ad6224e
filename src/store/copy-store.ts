import { migrateSqlDb } from './db/migrate-sql-db.js';
import { sql, type SqlFragment } from './db/sql.js';
import type { SqlDb, SqlExecutor } from './db/sql-db.js';

/**
 * Every table `store copy` moves, parents before children. A new table needs only its name here (or in
 * NOT_COPIED); a table in neither list stops the copy, so no data is ever left behind silently.
 */
export const COPIED_TABLES: readonly string[] = [
  // control state and the audit chain
  'events',
  'control_state',
  'audit',
  'audit_head',
  'audit_checkpoints',
  'audit_key_rotations',
  'invocations',
  'actions',
  // HTTP API, schedules
  'api_keys',
  'api_idempotency',
  'schedules',
  'schedule_firings',
  // health: checks, alerts, incidents, silences, notifications and their delivery
  'check_results',
  'check_rollups',
  'check_state',
  'alerts',
  'alert_events',
  'silences',
  'incidents',
  'incident_ids',
  'incident_timeline',
  'notifications',
  'deliveries',
  'outbox',
  // cost budgets, runbooks
  'costs',
  'cost_cursors',
  'budget_alerts',
  'runbook_runs',
];

/** Tables that belong to a running bot, not to its data (migration bookkeeping, leases held by live processes). */
export const NOT_COPIED: readonly string[] = ['schema_migrations', 'health_leases'];

export interface CopyProgress {
  table: string;
  copied: number;
  total: number;
}

export interface CopyResult {
  tables: { table: string; rows: number }[];
  migrated: number[];
}

/** A clear refusal (empty target needed, unknown table, …): the CLI prints it as it is. */
export class StoreCopyError extends Error {
  override name = 'StoreCopyError';
}

const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new StoreCopyError(`unexpected table or column name "${name}"`);
  return sql.raw(`"${name}"`);
};

export async function listTables(db: SqlExecutor): Promise<string[]> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.all<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
      : await db.all<{ name: string }>(sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`);
  return rows.map((r) => r.name);
}

export async function listColumns(db: SqlExecutor, table: string): Promise<string[]> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.all<{ name: string }>(sql`SELECT name FROM pragma_table_info(${table}) ORDER BY cid`)
      : await db.all<{ name: string }>(sql`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table} ORDER BY ordinal_position`);
  return rows.map((r) => r.name);
}

export async function countRows(db: SqlExecutor, table: string): Promise<number> {
  const row = await db.one<{ n: number }>(sql`SELECT COUNT(*) AS n FROM ${ident(table)}`);
  return Number(row?.n ?? 0);
}

/** The copied tables that hold rows in `db`, with their counts (empty when there are none). */
export async function nonEmptyTables(db: SqlExecutor): Promise<{ table: string; rows: number }[]> {
  const present = new Set(await listTables(db));
  const found: { table: string; rows: number }[] = [];
  for (const table of COPIED_TABLES) {
    if (!present.has(table)) continue;
    const rows = await countRows(db, table);
    if (rows > 0) found.push({ table, rows });
  }
  return found;
}

/** Row counts of every copied table present in `db`, in copy order. */
export async function tableCounts(db: SqlExecutor): Promise<{ table: string; rows: number }[]> {
  const present = new Set(await listTables(db));
  const out: { table: string; rows: number }[] = [];
  for (const table of COPIED_TABLES) if (present.has(table)) out.push({ table, rows: await countRows(db, table) });
  return out;
}

export interface CopyOptions {
  /** Rows per INSERT (and per read from the source). */
  batchSize?: number;
  onProgress?: (p: CopyProgress) => void;
}

/**
 * Copies every table of an SQLite store into another store (migrated first), in one unit of work on the
 * target: a failed copy leaves the target as empty as it was, so it can simply be run again. Columns come
 * from the source; identity sequences on PostgreSQL are moved past the copied ids so new rows never collide.
 */
export async function copyStore(source: SqlDb, target: SqlDb, opts: CopyOptions = {}): Promise<CopyResult> {
  if (source.dialect !== 'sqlite') throw new StoreCopyError('store copy reads an SQLite store; to move a PostgreSQL database use pg_dump (see `infrabot backup`)');
  const batchSize = opts.batchSize ?? 500;
  // Same schema version on both sides, so their columns match.
  await migrateSqlDb(source);
  const migrated = await migrateSqlDb(target);
  const sourceTables = await listTables(source);
  const unknown = sourceTables.filter((t) => !COPIED_TABLES.includes(t) && !NOT_COPIED.includes(t));
  if (unknown.length) {
    throw new StoreCopyError(`the source has tables store copy does not know: ${unknown.join(', ')}; add them to COPIED_TABLES (or NOT_COPIED) in src/store/copy-store.ts`);
  }
  const busy = await nonEmptyTables(target);
  if (busy.length) {
    const list = busy.map((b) => `${b.table} (${b.rows})`).join(', ');
    throw new StoreCopyError(`the target already holds data: ${list}. store copy only fills an empty store; point --to at a new database or schema`);
  }
  const tables: { table: string; rows: number }[] = [];
  await target.transaction(async (tx) => {
    for (const table of COPIED_TABLES) {
      if (!sourceTables.includes(table)) continue;
      tables.push({ table, rows: await copyTable(source, tx, table, batchSize, opts.onProgress) });
    }
  });
  return { tables, migrated };
}

async function copyTable(source: SqlDb, tx: SqlExecutor, table: string, batchSize: number, onProgress?: (p: CopyProgress) => void): Promise<number> {
  const columns = await listColumns(source, table);
  const targetColumns = new Set(await listColumns(tx, table));
  const missing = columns.filter((c) => !targetColumns.has(c));
  if (missing.length) throw new StoreCopyError(`table ${table}: the target has no column ${missing.join(', ')} (are both at the same migration?)`);
  const total = await countRows(source, table);
  const colList = sql.join(columns.map(ident));
  let copied = 0;
  let after = 0;
  onProgress?.({ table, copied, total });
  for (;;) {
    // rowid order is the insertion order (and free to page on); the source is always SQLite.
    const rows = await source.all<Record<string, unknown>>(
      sql`SELECT rowid AS "__rowid", ${colList} FROM ${ident(table)} WHERE rowid > ${after} ORDER BY rowid LIMIT ${batchSize}`,
    );
    if (rows.length === 0) break;
    after = Number(rows.at(-1)!.__rowid);
    const values: SqlFragment[] = rows.map((r) => sql`(${sql.join(columns.map((c) => r[c] ?? null))})`);
    try {
      await tx.run(sql`INSERT INTO ${ident(table)} (${colList}) VALUES ${sql.join(values)}`);
    } catch (err) {
      // Which rows, so the one that cannot move (e.g. text with a NUL character, which PostgreSQL refuses) can be found.
      const first = copied + 1;
      throw new Error(`table ${table}, rows ${first}–${copied + rows.length}: ${(err as Error).message}`, { cause: err });
    }
    copied += rows.length;
    onProgress?.({ table, copied, total });
  }
  if (tx.dialect === 'postgres') await advanceSequences(tx, table, columns);
  return copied;
}

/** Identity/serial columns continue after the highest copied id (never MAX+1 at insert time). */
async function advanceSequences(tx: SqlExecutor, table: string, columns: readonly string[]): Promise<void> {
  for (const column of columns) {
    const seq = await tx.one<{ seq: string | null }>(sql`SELECT pg_get_serial_sequence(${table}, ${column}) AS seq`);
    if (!seq?.seq) continue;
    await tx.one(sql`SELECT setval(${seq.seq}, COALESCE((SELECT MAX(${ident(column)}) FROM ${ident(table)}), 0) + 1, false)`);
  }
}
