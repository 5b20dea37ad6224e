import { sql } from './db/sql.js';
import type { SqlExecutor } from './db/sql-db.js';

/** Costs are stored in integer micro-units of their currency, like the guard's Redis counters. */
export const MICRO = 1_000_000;

export interface CostEntry {
  /** Unique per charge (`<cluster>:<idempotencyKey>:<attempt token>` for guard charges): a charge collected twice is stored once. */
  chargeId: string;
  cluster: string;
  team?: string;
  action: string;
  amount: number;
  currency: string;
  at: string;
  source: 'guard' | 'seed';
  digest?: string;
  traceId?: string;
}

/** Inserts charges, skipping any already stored; returns how many were new. */
export async function insertCosts(tx: SqlExecutor, entries: readonly CostEntry[]): Promise<number> {
  let added = 0;
  for (const e of entries) {
    const r = await tx.run(sql`
      INSERT INTO costs (charge_id, cluster, team, action, amount_micro, currency, at, source, digest, trace_id)
      VALUES (${e.chargeId}, ${e.cluster}, ${e.team ?? null}, ${e.action}, ${Math.round(e.amount * MICRO)}, ${e.currency}, ${e.at}, ${e.source}, ${e.digest ?? null}, ${e.traceId ?? null})
      ON CONFLICT (charge_id) DO NOTHING`);
    added += r.changes;
  }
  return added;
}

/** Where collection of a cluster's charge stream stands, with the row version for compare-and-set. */
export async function readCursor(db: SqlExecutor, cluster: string): Promise<{ lastId: string; version: number }> {
  const row = await db.one<{ last_id: string; version: number }>(sql`SELECT last_id, version FROM cost_cursors WHERE cluster = ${cluster}`);
  return row ? { lastId: row.last_id, version: Number(row.version) } : { lastId: '0-0', version: 0 };
}

/** Moves the cursor only if nobody else did since `version` was read; false when another writer won. */
export async function advanceCursor(tx: SqlExecutor, cluster: string, lastId: string, version: number): Promise<boolean> {
  if (version === 0) {
    const r = await tx.run(sql`INSERT INTO cost_cursors (cluster, last_id, version) VALUES (${cluster}, ${lastId}, 1) ON CONFLICT (cluster) DO NOTHING`);
    return r.changes === 1;
  }
  const r = await tx.run(sql`UPDATE cost_cursors SET last_id = ${lastId}, version = ${version + 1} WHERE cluster = ${cluster} AND version = ${version}`);
  return r.changes === 1;
}

export type { CostRow } from '../engine/billing/cost-row.js';
import type { CostRow } from '../engine/billing/cost-row.js';

/** Spend per day, cluster, team, action and currency in [since, until). */
export async function costsByDay(db: SqlExecutor, opts: { since: string; until: string; cluster?: string; clusters?: readonly string[] }): Promise<CostRow[]> {
  const where = [sql`at >= ${opts.since}`, sql`at < ${opts.until}`];
  if (opts.cluster) where.push(sql`cluster = ${opts.cluster}`);
  if (opts.clusters) where.push(opts.clusters.length ? sql`cluster IN (${sql.join(opts.clusters.map((c) => sql`${c}`), ', ')})` : sql`1 = 0`);
  const rows = await db.all<{ cluster: string; team: string | null; action: string; currency: string; day: string; amount: number; n: number }>(sql`
    SELECT cluster, team, action, currency, SUBSTR(at, 1, 10) AS day, SUM(amount_micro) AS amount, COUNT(*) AS n
    FROM costs WHERE ${sql.join(where, ' AND ')}
    GROUP BY cluster, team, action, currency, SUBSTR(at, 1, 10)
    ORDER BY day`);
  return rows.map((r) => ({ cluster: r.cluster, team: r.team, action: r.action, currency: r.currency, day: r.day, amount: Number(r.amount) / MICRO, count: Number(r.n) }));
}

/** Total spend of some clusters in [since, until), in micro-units. */
export async function spentMicro(db: SqlExecutor, clusters: readonly string[], since: string, until: string): Promise<number> {
  if (clusters.length === 0) return 0;
  const row = await db.one<{ s: number | null }>(sql`
    SELECT SUM(amount_micro) AS s FROM costs
    WHERE cluster IN (${sql.join(clusters.map((c) => sql`${c}`), ', ')}) AND at >= ${since} AND at < ${until}`);
  return Number(row?.s ?? 0);
}

/**
 * Records that `subject` crossed `threshold` in `period`; true only for the first caller, so an alert fires
 * once per threshold and period however many replicas evaluate it.
 */
export async function claimBudgetAlert(tx: SqlExecutor, a: { subject: string; period: string; threshold: number; at: string; spentMicro: number; cluster: string }): Promise<boolean> {
  const r = await tx.run(sql`
    INSERT INTO budget_alerts (subject, period, threshold, fired_at, spent_micro, cluster)
    VALUES (${a.subject}, ${a.period}, ${String(a.threshold)}, ${a.at}, ${a.spentMicro}, ${a.cluster})
    ON CONFLICT (subject, period, threshold) DO NOTHING`);
  return r.changes === 1;
}

export interface FiredBudgetAlert {
  subject: string;
  period: string;
  threshold: number;
  cluster: string;
}

/** Budget alerts of periods other than `current` that are still firing: their period is over. */
export async function unresolvedBudgetAlerts(db: SqlExecutor, current: readonly string[]): Promise<FiredBudgetAlert[]> {
  const rows = await db.all<{ subject: string; period: string; threshold: string; cluster: string }>(sql`
    SELECT subject, period, threshold, cluster FROM budget_alerts
    WHERE resolved_at IS NULL AND period NOT IN (${sql.join(current.map((p) => sql`${p}`), ', ')})`);
  return rows.map((r) => ({ ...r, threshold: Number(r.threshold) }));
}

/** Marks a budget alert resolved; true only for the first caller. */
export async function resolveBudgetAlert(tx: SqlExecutor, a: FiredBudgetAlert, at: string): Promise<boolean> {
  const r = await tx.run(sql`
    UPDATE budget_alerts SET resolved_at = ${at}
    WHERE subject = ${a.subject} AND period = ${a.period} AND threshold = ${String(a.threshold)} AND resolved_at IS NULL`);
  return r.changes === 1;
}
