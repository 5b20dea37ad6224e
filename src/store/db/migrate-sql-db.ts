import { MIGRATIONS, migrationSql, type Migration } from '../migrations.js';
import { sql } from './sql.js';
import type { SqlDb } from './sql-db.js';

/** Any number, the same in every replica: PostgreSQL serializes migrating replicas on this advisory lock. */
const MIGRATION_LOCK = 7_270_001;

/**
 * Applies the numbered migrations not yet recorded, in one unit of work (several replicas starting at once
 * migrate once: SQLite's write lock or PostgreSQL's advisory lock lets one go first, the others then see
 * nothing left to do). Returns the versions applied.
 */
export async function migrateSqlDb(db: SqlDb, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.one(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const done = new Set((await tx.all<{ version: number }>(sql`SELECT version FROM schema_migrations`)).map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(migrationSql(m, tx.dialect));
      await tx.run(sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${new Date().toISOString()})`);
      applied.push(m.version);
    }
    return applied;
  });
}
