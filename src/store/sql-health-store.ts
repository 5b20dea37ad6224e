import { sql, type SqlFragment } from './db/sql.js';
import { UniqueViolation, type SqlDb, type SqlExecutor } from './db/sql-db.js';
import {
  StaleRowError,
  type Alert,
  type AlertEvent,
  type CheckResult,
  type CheckState,
  type CompactResult,
  type HealthBatch,
  type HealthStore,
  type Incident,
  type Notification,
  type OutboxJob,
  type RetentionCutoffs,
  type Silence,
  type TimelineEntry,
} from './health-store.js';
import {
  claimOutbox, completeOutbox, deadLetterStaleOutbox, deliveries, enqueueOutbox, outboxGauges, pendingOutbox, pruneOutbox, retryOutbox, saveDelivery,
} from './outbox-store.js';
import { sqlLeaseStore } from './health-leases.js';
import type { Reply } from '../framework/reply.js';

interface ResultRow { check_name: string; at: string; ok: number; latency_ms: number; error: string | null }
interface DocRow { doc: string; version: number }
interface SilenceRow {
  id: string; kind: Silence['kind']; target: string; reason: string; created_by: string; starts_at: string; ends_at: string; ended_at: string | null; version: number;
}

/** A stored document with its row version (the version is a column, never part of the JSON). */
const doc = <T>(row: DocRow | undefined): T | undefined => (row ? { ...(JSON.parse(row.doc) as T), version: Number(row.version) } : undefined);
const docs = <T>(rows: DocRow[]): T[] => rows.map((r) => doc<T>(r)!);
const json = (v: { version?: number }): string => {
  const { version: _v, ...rest } = v;
  return JSON.stringify(rest);
};
const toResult = (r: ResultRow): CheckResult => ({
  check: r.check_name, at: r.at, ok: Number(r.ok) === 1, latencyMs: Number(r.latency_ms), ...(r.error ? { error: r.error } : {}),
});
const toSilence = (r: SilenceRow): Silence => ({
  id: r.id, kind: r.kind, target: r.target, reason: r.reason, createdBy: r.created_by, startsAt: r.starts_at, endsAt: r.ends_at,
  ...(r.ended_at ? { endedAt: r.ended_at } : {}), version: Number(r.version),
});
const where = (conds: SqlFragment[]): SqlFragment => (conds.length ? sql` WHERE ${sql.join(conds, ' AND ')}` : sql.empty);

export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The last entry per key: a decision that touched a row twice writes its final form once. */
function lastOf<T>(rows: readonly T[] | undefined, key: (r: T) => string | number): T[] {
  const m = new Map<string | number, T>();
  for (const r of rows ?? []) {
    const k = key(r);
    // Keep the version the row was first read with: that is what the stored row must still be.
    const first = m.get(k) as { version?: number } | undefined;
    m.set(k, first && first.version !== undefined ? { ...r, version: first.version } : r);
  }
  return [...m.values()];
}

/**
 * Writes one versioned row: INSERT when it was not stored (a row that appeared meanwhile breaks the key and
 * fails), else UPDATE … WHERE version = the one read. Zero rows updated means someone else wrote it first.
 */
async function casWrite(tx: SqlExecutor, what: string, version: number | undefined, insert: SqlFragment, update: SqlFragment): Promise<void> {
  if (version === undefined) {
    try {
      await tx.run(insert);
    } catch (err) {
      if (err instanceof UniqueViolation) throw new StaleRowError(what);
      throw err;
    }
    return;
  }
  if ((await tx.run(update)).changes !== 1) throw new StaleRowError(what);
}

async function writeBatch(tx: SqlExecutor, b: HealthBatch, at: string): Promise<void> {
  for (const r of b.results ?? []) {
    await tx.run(sql`INSERT INTO check_results (check_name, at, ok, latency_ms, error) VALUES (${r.check}, ${r.at}, ${r.ok ? 1 : 0}, ${r.latencyMs}, ${r.error ?? null})`);
  }
  for (const s of lastOf(b.states, (s) => s.check)) {
    await casWrite(tx, `the state of check ${s.check}`, s.version,
      sql`INSERT INTO check_state (check_name, doc, version) VALUES (${s.check}, ${json(s)}, 1)`,
      sql`UPDATE check_state SET doc = ${json(s)}, version = version + 1 WHERE check_name = ${s.check} AND version = ${s.version}`);
  }
  for (const a of lastOf(b.alerts, (a) => a.id)) {
    await casWrite(tx, `alert ${a.id}`, a.version,
      sql`INSERT INTO alerts (id, dedup_key, cluster, check_name, status, fired_at, resolved_at, notification_id, doc, version)
          VALUES (${a.id}, ${a.dedupKey}, ${a.cluster}, ${a.check}, ${a.status}, ${a.firedAt}, ${a.resolvedAt ?? null}, ${a.notificationId ?? null}, ${json(a)}, 1)`,
      sql`UPDATE alerts SET status = ${a.status}, resolved_at = ${a.resolvedAt ?? null}, notification_id = ${a.notificationId ?? null}, doc = ${json(a)}, version = version + 1
          WHERE id = ${a.id} AND version = ${a.version}`);
  }
  for (const e of b.alertEvents ?? []) {
    await tx.run(sql`INSERT INTO alert_events (alert_id, at, cluster, type, actor, detail) VALUES (${e.alertId}, ${e.at}, ${e.cluster}, ${e.type}, ${e.actor}, ${e.detail})`);
  }
  for (const n of lastOf(b.notifications, (n) => n.id)) {
    await tx.run(sql`INSERT INTO notifications (id, kind, cluster, created_at, doc) VALUES (${n.id}, ${n.kind}, ${n.cluster ?? null}, ${n.createdAt}, ${JSON.stringify(n)})
      ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`);
  }
  for (const s of lastOf(b.silences, (s) => s.id)) {
    await casWrite(tx, `silence ${s.id}`, s.version,
      sql`INSERT INTO silences (id, kind, target, reason, created_by, starts_at, ends_at, ended_at, version)
          VALUES (${s.id}, ${s.kind}, ${s.target}, ${s.reason}, ${s.createdBy}, ${s.startsAt}, ${s.endsAt}, ${s.endedAt ?? null}, 1)`,
      sql`UPDATE silences SET reason = ${s.reason}, ends_at = ${s.endsAt}, ended_at = ${s.endedAt ?? null}, version = version + 1 WHERE id = ${s.id} AND version = ${s.version}`);
  }
  for (const i of b.declared ?? []) {
    await tx.run(sql`INSERT INTO incidents (id, status, cluster, declared_at, doc, version) VALUES (${i.id}, ${i.status}, ${i.cluster ?? null}, ${i.declaredAt}, ${json(i)}, 1)`);
  }
  for (const i of lastOf(b.incidents, (i) => i.id)) {
    if (i.version === undefined) throw new Error(`incident ${i.id} has no version: updates are of stored incidents`);
    await casWrite(tx, `incident INC-${i.id}`, i.version, sql.empty,
      sql`UPDATE incidents SET status = ${i.status}, cluster = ${i.cluster ?? null}, doc = ${json(i)}, version = version + 1 WHERE id = ${i.id} AND version = ${i.version}`);
  }
  for (const t of b.timeline ?? []) {
    await tx.run(sql`INSERT INTO incident_timeline (incident_id, at, actor, type, text) VALUES (${t.incidentId}, ${t.at}, ${t.actor}, ${t.type}, ${t.text})`);
  }
  await enqueueOutbox(tx, b.outbox ?? [], at);
}

const isConflict = (err: unknown) => err instanceof StaleRowError || err instanceof UniqueViolation;
const MAX_ATTEMPTS = 5;

/** The health store over the unit-of-work port: one implementation for SQLite and PostgreSQL. */
export function createSqlHealthStore(db: SqlDb): HealthStore {
  const store: HealthStore = {
    db,
    leases: sqlLeaseStore(db),
    async unit(decide) {
      // The SqlDb keeps the current transaction in async context: reads and writes of `decide` (through `db`)
      // run in it, and a unit started inside a command's unit of work becomes a savepoint of it.
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction(() => decide(attempt));
        } catch (err) {
          if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
        }
      }
    },
    async commit(batch, at) {
      await db.transaction((tx) => writeBatch(tx, batch, at));
    },
    async nextIncidentId() {
      const row = await db.transaction((tx) => tx.one<{ id: number }>(sql`INSERT INTO incident_ids DEFAULT VALUES RETURNING id`));
      return Number(row!.id);
    },

    async checkState(check) {
      return doc<CheckState>(await db.one<DocRow>(sql`SELECT doc, version FROM check_state WHERE check_name = ${check}`));
    },
    async checkStates() {
      return docs<CheckState>(await db.all<DocRow>(sql`SELECT doc, version FROM check_state ORDER BY check_name`));
    },
    async results(check, since, limit) {
      const rows = await db.all<ResultRow>(sql`SELECT * FROM check_results WHERE check_name = ${check} AND at >= ${since} ORDER BY at DESC LIMIT ${limit}`);
      return rows.map(toResult);
    },
    async stats(check, since) {
      const raw = await db.all<{ ok: number; latency_ms: number }>(sql`SELECT ok, latency_ms FROM check_results WHERE check_name = ${check} AND at >= ${since}`);
      const roll = await db.one<{ total: number; ok: number }>(
        sql`SELECT COALESCE(SUM(total), 0) AS total, COALESCE(SUM(ok), 0) AS ok FROM check_rollups WHERE check_name = ${check} AND hour >= ${since.slice(0, 13) + ':00:00.000Z'}`,
      );
      const lat = raw.filter((r) => Number(r.ok) === 1).map((r) => Number(r.latency_ms)).sort((a, b) => a - b);
      const p50 = percentile(lat, 50);
      const p95 = percentile(lat, 95);
      return {
        total: raw.length + Number(roll?.total ?? 0),
        ok: lat.length + Number(roll?.ok ?? 0),
        ...(p50 !== undefined ? { p50 } : {}),
        ...(p95 !== undefined ? { p95 } : {}),
      };
    },
    compact: (rawBefore, rollupBefore, cutoffs) => db.transaction((tx) => compactIn(tx, rawBefore, rollupBefore, cutoffs ?? {})),

    async alert(id) {
      return doc<Alert>(await db.one<DocRow>(sql`SELECT doc, version FROM alerts WHERE id = ${id}`));
    },
    async firingAlert(key) {
      return doc<Alert>(await db.one<DocRow>(sql`SELECT doc, version FROM alerts WHERE dedup_key = ${key} AND status = 'firing'`));
    },
    async alerts({ status, cluster, notificationId, since, limit }) {
      const conds: SqlFragment[] = [];
      if (status) conds.push(sql`status = ${status}`);
      if (cluster) conds.push(sql`cluster = ${cluster}`);
      if (since) conds.push(sql`fired_at >= ${since}`);
      // Filtered in SQL (indexed): a filter after the LIMIT would miss a notification's alerts once history grows.
      if (notificationId) conds.push(sql`notification_id = ${notificationId}`);
      return docs<Alert>(await db.all<DocRow>(sql`SELECT doc, version FROM alerts${where(conds)} ORDER BY fired_at, id LIMIT ${limit ?? 1000}`));
    },
    async alertEvents({ cluster, alertId, after, until }) {
      const conds: SqlFragment[] = [];
      if (cluster) conds.push(sql`cluster = ${cluster}`);
      if (alertId) conds.push(sql`alert_id = ${alertId}`);
      if (after) conds.push(sql`at >= ${after}`);
      if (until) conds.push(sql`at <= ${until}`);
      const rows = await db.all<{ alert_id: string; at: string; cluster: string; type: AlertEvent['type']; actor: string; detail: string }>(
        sql`SELECT alert_id, at, cluster, type, actor, detail FROM alert_events${where(conds)} ORDER BY at, seq`,
      );
      return rows.map((r) => ({ alertId: r.alert_id, at: r.at, cluster: r.cluster, type: r.type, actor: r.actor, detail: r.detail }));
    },

    async notification(id) {
      const row = await db.one<{ doc: string }>(sql`SELECT doc FROM notifications WHERE id = ${id}`);
      return row ? (JSON.parse(row.doc) as Notification) : undefined;
    },
    async recentAlertNotification(cluster, since) {
      const row = await db.one<{ doc: string }>(
        sql`SELECT doc FROM notifications WHERE kind = 'alert' AND cluster = ${cluster} AND created_at >= ${since} ORDER BY created_at DESC LIMIT 1`,
      );
      return row ? (JSON.parse(row.doc) as Notification) : undefined;
    },
    // Delivery bookkeeping lives in the outbox store (lease tokens, posting once).
    deliveries: (notificationId) => deliveries(db, notificationId),
    saveDelivery: (d) => saveDelivery(db, d),
    claimOutbox: (now, platforms, limit, leaseUntil) => claimOutbox(db, { now, platforms, limit, leaseUntil }),
    completeOutbox: (args) => completeOutbox(db, args),
    retryOutbox: (args) => retryOutbox(db, args),
    pendingOutbox: (platforms) => pendingOutbox(db, platforms),
    async gauges() {
      const firing = docs<Alert>(await db.all<DocRow>(sql`SELECT doc, version FROM alerts WHERE status = 'firing'`));
      const bySeverity = new Map<string, { cluster: string; severity: string; count: number }>();
      for (const a of firing) {
        const k = `${a.cluster}\u0000${a.severity}`;
        const g = bySeverity.get(k) ?? { cluster: a.cluster, severity: a.severity, count: 0 };
        g.count++;
        bySeverity.set(k, g);
      }
      const num = <T extends Record<string, unknown>>(rows: T[], key: keyof T) => rows.map((r) => ({ ...r, [key]: Number(r[key]) }));
      return {
        ...(await outboxGauges(db)),
        firing: [...bySeverity.values()],
        openIncidents: num(await db.all<{ cluster: string; count: number }>(
          sql`SELECT COALESCE(cluster, '') AS cluster, COUNT(*) AS count FROM incidents WHERE status <> 'resolved' GROUP BY COALESCE(cluster, '')`,
        ), 'count'),
      };
    },

    async silences({ activeAt, kind }) {
      const conds: SqlFragment[] = [];
      if (activeAt) conds.push(sql`starts_at <= ${activeAt} AND ends_at > ${activeAt} AND ended_at IS NULL`);
      if (kind) conds.push(sql`kind = ${kind}`);
      return (await db.all<SilenceRow>(sql`SELECT * FROM silences${where(conds)} ORDER BY starts_at, id`)).map(toSilence);
    },
    async silence(id) {
      const row = await db.one<SilenceRow>(sql`SELECT * FROM silences WHERE id = ${id}`);
      return row ? toSilence(row) : undefined;
    },

    async incident(id) {
      return doc<Incident>(await db.one<DocRow>(sql`SELECT doc, version FROM incidents WHERE id = ${id}`));
    },
    async incidents({ open, since, cluster }) {
      const conds: SqlFragment[] = [];
      if (open) conds.push(sql`status <> 'resolved'`);
      if (since) conds.push(sql`declared_at >= ${since}`);
      if (cluster) conds.push(sql`cluster = ${cluster}`);
      return docs<Incident>(await db.all<DocRow>(sql`SELECT doc, version FROM incidents${where(conds)} ORDER BY id`));
    },
    async timeline(incidentId) {
      return db.all<TimelineEntry>(
        sql`SELECT incident_id AS "incidentId", at, actor, type, text FROM incident_timeline WHERE incident_id = ${incidentId} ORDER BY at, seq`,
      ).then((rows) => rows.map((r) => ({ ...r, incidentId: Number(r.incidentId) })));
    },
  };
  return store;
}

async function compactIn(tx: SqlExecutor, rawBefore: string, rollupBefore: string, cut: RetentionCutoffs): Promise<CompactResult> {
  const old = await tx.all<ResultRow>(sql`SELECT * FROM check_results WHERE at < ${rawBefore} ORDER BY check_name, at`);
  const buckets = new Map<string, { check: string; hour: string; total: number; ok: number; sum: number; lat: number[] }>();
  for (const r of old) {
    const hour = r.at.slice(0, 13) + ':00:00.000Z';
    const key = `${r.check_name}|${hour}`;
    const b = buckets.get(key) ?? { check: r.check_name, hour, total: 0, ok: 0, sum: 0, lat: [] };
    b.total++;
    if (Number(r.ok)) {
      b.ok++;
      b.sum += Number(r.latency_ms);
      b.lat.push(Number(r.latency_ms));
    }
    buckets.set(key, b);
  }
  for (const b of buckets.values()) {
    const p95 = percentile(b.lat.sort((x, y) => x - y), 95) ?? 0;
    await tx.run(sql`INSERT INTO check_rollups (check_name, hour, total, ok, latency_sum, latency_p95) VALUES (${b.check}, ${b.hour}, ${b.total}, ${b.ok}, ${b.sum}, ${p95})
      ON CONFLICT (check_name, hour) DO UPDATE SET total = check_rollups.total + excluded.total, ok = check_rollups.ok + excluded.ok,
        latency_sum = check_rollups.latency_sum + excluded.latency_sum,
        latency_p95 = CASE WHEN check_rollups.latency_p95 > excluded.latency_p95 THEN check_rollups.latency_p95 ELSE excluded.latency_p95 END`);
  }
  await tx.run(sql`DELETE FROM check_results WHERE at < ${rawBefore}`);
  await tx.run(sql`DELETE FROM check_rollups WHERE hour < ${rollupBefore}`);
  // Dead-lettering first: a notification whose last jobs are given up on can then be pruned in the same run.
  const deadLettered = cut.deadLetterBefore ? await deadLetterStaleOutbox(tx, { before: cut.deadLetterBefore, now: cut.now ?? cut.deadLetterBefore }) : [];
  const outbox = await pruneOutbox(tx, { doneBefore: rawBefore, ...(cut.historyBefore ? { deadBefore: cut.historyBefore } : {}) });
  let pruned = outbox.dead;
  const run = async (q: SqlFragment) => (pruned += (await tx.run(q)).changes);
  const h = cut.historyBefore;
  if (h) {
    await run(sql`DELETE FROM alerts WHERE status = 'resolved' AND resolved_at < ${h}`);
    await run(sql`DELETE FROM alert_events WHERE at < ${h} AND alert_id NOT IN (SELECT id FROM alerts WHERE status = 'firing')`);
    // Alert notifications no alert refers to any more and with nothing left to deliver, then their messages.
    await run(sql`DELETE FROM notifications WHERE kind = 'alert' AND created_at < ${h}
      AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.notification_id = notifications.id)
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.notification_id = notifications.id AND o.status = 'pending')`);
    await run(sql`DELETE FROM deliveries WHERE notification_id NOT IN (SELECT id FROM notifications)`);
    await run(sql`DELETE FROM silences WHERE COALESCE(ended_at, ends_at) < ${h}`);
    // Notification buttons written before they had an expiry.
    await run(sql`DELETE FROM actions WHERE created_by = 'system' AND expires_at IS NULL AND created_at < ${h}`);
  }
  // An expired button is refused exactly like an unknown one, so its row can go.
  if (cut.now) await run(sql`DELETE FROM actions WHERE expires_at IS NOT NULL AND expires_at < ${cut.now}`);
  return { folded: old.length, pruned, deadLettered };
}
