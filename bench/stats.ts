/** Small helpers shared by the bench files. */
import type Database from 'better-sqlite3';
import { migrateSqlDb } from '../src/store/db/migrate-sql-db.js';
import { createSqliteDb, openSqliteFile } from '../src/store/db/sqlite-db.js';

/** A migrated SQLite file opened with the store's pragmas, for seeding rows directly (faster than commits). */
export async function openMigratedSqlite(file: string): Promise<Database.Database> {
  const db = createSqliteDb({ file });
  await migrateSqlDb(db);
  await db.close();
  return openSqliteFile(file);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(samplesMs: number[]) {
  const s = [...samplesMs].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

export const fmt = (ms: number) => `${ms.toFixed(ms < 1 ? 3 : 1)} ms`;

export function line(label: string, value: string, target?: string, pass?: boolean) {
  console.log(`${label.padEnd(48)} ${value.padEnd(28)}${target ? ` target ${target} ${pass ? 'PASS' : 'MISS'}` : ''}`);
}
