import { sql } from './db/sql.js';
import type { SqlDb, SqlExecutor } from './db/sql-db.js';

/**
 * Leases in the database, shared by every replica (nothing in process memory): one row per check (`check:<name>`)
 * or housekeeping job (`job:<name>`) with its owner, when that ownership expires, and when it is next due.
 * Rows are taken with compare-and-set on `version`, so of several replicas exactly one wins each due slot.
 */
import type { Lease, LeaseStore } from './health-store.js';

/** The lease functions over a database (or a unit of work). */
export function sqlLeaseStore(ex: SqlDb): LeaseStore {
  return {
    // The database keeps the current transaction in async context: the calls of `fn` (through `ex`) run in it.
    atomically: (fn) => ex.transaction(() => fn()),
    ensure: (names, firstDueAt) => ensureLeases(ex, names, firstDueAt),
    read: (prefix) => readLeases(ex, prefix),
    take: (lease, owner, expiresAt, nextDueAt) => takeSlot(ex, lease, owner, expiresAt, nextDueAt),
    renew: (owner, prefix, now, expiresAt) => renewLeases(ex, owner, prefix, now, expiresAt),
    release: (owner) => releaseLeases(ex, owner),
  };
}

interface LeaseRow { name: string; owner: string | null; expires_at: string; next_due_at: string; version: number }

const toLease = (r: LeaseRow): Lease => ({
  name: r.name, ...(r.owner ? { owner: r.owner } : {}), expiresAt: r.expires_at, nextDueAt: r.next_due_at, version: Number(r.version),
});

/** Creates the rows that do not exist yet (first due at `firstDueAt(name)`); existing rows keep their schedule. */
export async function ensureLeases(ex: SqlExecutor, names: readonly string[], firstDueAt: (name: string) => string): Promise<void> {
  for (const name of names) {
    await ex.run(sql`INSERT INTO health_leases (name, owner, expires_at, next_due_at, version) VALUES (${name}, NULL, ${new Date(0).toISOString()}, ${firstDueAt(name)}, 1)
      ON CONFLICT (name) DO NOTHING`);
  }
}

export async function readLeases(ex: SqlExecutor, prefix: string): Promise<Lease[]> {
  return (await ex.all<LeaseRow>(sql`SELECT * FROM health_leases WHERE name LIKE ${prefix + '%'} ORDER BY name`)).map(toLease);
}

/**
 * Takes a due slot: succeeds (true) only if the row is still the version read, so one replica wins. The winner
 * owns the lease until `expiresAt` and the slot moves on to `nextDueAt`.
 */
export async function takeSlot(ex: SqlExecutor, lease: Lease, owner: string, expiresAt: string, nextDueAt: string): Promise<boolean> {
  const r = await ex.run(sql`UPDATE health_leases SET owner = ${owner}, expires_at = ${expiresAt}, next_due_at = ${nextDueAt}, version = version + 1
    WHERE name = ${lease.name} AND version = ${lease.version}`);
  return r.changes === 1;
}

/** Extends every unexpired lease `owner` holds under `prefix` (a live replica keeps its checks). */
export async function renewLeases(ex: SqlExecutor, owner: string, prefix: string, now: string, expiresAt: string): Promise<number> {
  // Only leases past half their time: a round every second need not rewrite every row every second.
  const half = new Date((Date.parse(now) + Date.parse(expiresAt)) / 2).toISOString();
  const r = await ex.run(sql`UPDATE health_leases SET expires_at = ${expiresAt}, version = version + 1
    WHERE owner = ${owner} AND name LIKE ${prefix + '%'} AND expires_at > ${now} AND expires_at < ${half}`);
  return r.changes;
}

/** Gives up `owner`'s leases at once (a clean stop), so another replica takes them at their next due time. */
export async function releaseLeases(ex: SqlExecutor, owner: string): Promise<void> {
  await ex.run(sql`UPDATE health_leases SET owner = NULL, expires_at = ${new Date(0).toISOString()}, version = version + 1 WHERE owner = ${owner}`);
}
