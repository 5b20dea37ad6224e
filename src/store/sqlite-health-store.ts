import type Database from 'better-sqlite3';
import {
  StaleHealthStateError,
  type Alert,
  type AlertEvent,
  type CheckResult,
  type CheckState,
  type Delivery,
  type HealthBatch,
  type HealthStore,
  type Incident,
  type Notification,
  type OutboxJob,
  type Silence,
  type TimelineEntry,
  type CompactResult,
  type RetentionCutoffs,
} from './health-store.js';
import type { Reply } from '../framework/reply.js';

interface ResultRow { check_name: string; at: string; ok: number; latency_ms: number; error: string | null }
interface OutboxRow {
  seq: number; notification_id: string; platform: string; channel: string; op: 'sync' | 'reply'; body: string | null;
  created_at: string; attempts: number; next_attempt_at: string;
}

const doc = <T>(row: { doc: string } | undefined): T | undefined => (row ? (JSON.parse(row.doc) as T) : undefined);
const docs = <T>(rows: unknown[]): T[] => (rows as { doc: string }[]).map((r) => JSON.parse(r.doc) as T);
const toResult = (r: ResultRow): CheckResult => ({
  check: r.check_name, at: r.at, ok: r.ok === 1, latencyMs: r.latency_ms, ...(r.error ? { error: r.error } : {}),
});

export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The health store on the app's shared better-sqlite3 handle (same file as the control store). */
export async function createSqliteHealthStore({ db }: { db: Database.Database }): Promise<HealthStore> {
  // Tables: migrated by the main store (src/store/sql-store.ts) on the same database.
  const q = {
    insertResult: db.prepare('INSERT INTO check_results (check_name, at, ok, latency_ms, error) VALUES (?, ?, ?, ?, ?)'),
    upsertState: db.prepare('INSERT INTO check_state (check_name, doc) VALUES (?, ?) ON CONFLICT (check_name) DO UPDATE SET doc = excluded.doc'),
    upsertAlert: db.prepare(
      `INSERT INTO alerts (id, dedup_key, cluster, check_name, status, fired_at, resolved_at, notification_id, doc)
       VALUES (@id, @dedupKey, @cluster, @check, @status, @firedAt, @resolvedAt, @notificationId, @doc)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, resolved_at = excluded.resolved_at, notification_id = excluded.notification_id, doc = excluded.doc`,
    ),
    insertAlertEvent: db.prepare('INSERT INTO alert_events (alert_id, at, cluster, type, actor, detail) VALUES (?, ?, ?, ?, ?, ?)'),
    upsertNotification: db.prepare(
      'INSERT INTO notifications (id, kind, cluster, created_at, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc',
    ),
    maxOutbox: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM outbox').pluck(),
    insertOutbox: db.prepare(
      `INSERT INTO outbox (seq, notification_id, platform, channel, op, body, created_at, status, attempts, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)`,
    ),
    upsertSilence: db.prepare(
      `INSERT INTO silences (id, kind, target, reason, created_by, starts_at, ends_at, ended_at) VALUES (@id, @kind, @target, @reason, @createdBy, @startsAt, @endsAt, @endedAt)
       ON CONFLICT (id) DO UPDATE SET ends_at = excluded.ends_at, ended_at = excluded.ended_at`,
    ),
    // No ON CONFLICT: two writers that predicted the same id must not overwrite each other's incident.
    insertIncident: db.prepare('INSERT INTO incidents (id, status, cluster, declared_at, doc) VALUES (?, ?, ?, ?, ?)'),
    stateDoc: db.prepare('SELECT doc FROM check_state WHERE check_name = ?').pluck(),
    upsertIncident: db.prepare(
      'INSERT INTO incidents (id, status, cluster, declared_at, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, doc = excluded.doc',
    ),
    insertTimeline: db.prepare('INSERT INTO incident_timeline (incident_id, at, actor, type, text) VALUES (?, ?, ?, ?, ?)'),
  };

  const commitTx = db.transaction((b: HealthBatch, at: string) => {
    for (const e of b.expectStates ?? []) {
      const stored = q.stateDoc.get(e.check) as string | undefined;
      if ((stored === undefined ? undefined : JSON.stringify(JSON.parse(stored))) !== (e.state ? JSON.stringify(e.state) : undefined)) {
        throw new StaleHealthStateError(e.check);
      }
    }
    for (const r of b.results ?? []) q.insertResult.run(r.check, r.at, r.ok ? 1 : 0, r.latencyMs, r.error ?? null);
    for (const s of b.states ?? []) q.upsertState.run(s.check, JSON.stringify(s));
    for (const a of b.alerts ?? []) q.upsertAlert.run({ ...a, resolvedAt: a.resolvedAt ?? null, notificationId: a.notificationId ?? null, doc: JSON.stringify(a) });
    for (const e of b.alertEvents ?? []) q.insertAlertEvent.run(e.alertId, e.at, e.cluster, e.type, e.actor, e.detail);
    for (const n of b.notifications ?? []) q.upsertNotification.run(n.id, n.kind, n.cluster ?? null, n.createdAt, JSON.stringify(n));
    let seq = q.maxOutbox.get() as number;
    for (const o of b.outbox ?? []) q.insertOutbox.run(++seq, o.notificationId, o.platform, o.channel, o.op, o.body ? JSON.stringify(o.body) : null, at, at);
    for (const s of b.silences ?? []) q.upsertSilence.run({ ...s, endedAt: s.endedAt ?? null });
    for (const i of b.declared ?? []) q.insertIncident.run(i.id, i.status, i.cluster ?? null, i.declaredAt, JSON.stringify(i));
    for (const i of b.incidents ?? []) q.upsertIncident.run(i.id, i.status, i.cluster ?? null, i.declaredAt, JSON.stringify(i));
    for (const t of b.timeline ?? []) q.insertTimeline.run(t.incidentId, t.at, t.actor, t.type, t.text);
  });

  const claimTx = db.transaction((now: string, platforms: readonly string[], limit: number, leaseUntil: string): OutboxJob[] => {
    if (platforms.length === 0) return [];
    const rows = db
      .prepare(
        `SELECT o.* FROM outbox o
         WHERE o.status = 'pending' AND o.next_attempt_at <= ? AND (o.locked_until IS NULL OR o.locked_until < ?)
           AND o.platform IN (${platforms.map(() => '?').join(', ')})
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending' AND p.notification_id = o.notification_id
                             AND p.platform = o.platform AND p.channel = o.channel AND p.seq < o.seq)
         ORDER BY o.seq LIMIT ?`,
      )
      .all(now, now, ...platforms, limit) as OutboxRow[];
    const lock = db.prepare('UPDATE outbox SET locked_until = ? WHERE seq = ?');
    for (const r of rows) lock.run(leaseUntil, r.seq);
    return rows.map((r) => ({
      seq: r.seq, notificationId: r.notification_id, platform: r.platform, channel: r.channel, op: r.op,
      ...(r.body ? { body: JSON.parse(r.body) as Reply } : {}),
      createdAt: r.created_at, attempts: r.attempts, nextAttemptAt: r.next_attempt_at,
    }));
  });

  const compactTx = db.transaction((rawBefore: string, rollupBefore: string, cut: RetentionCutoffs): CompactResult => {
    const old = db.prepare('SELECT * FROM check_results WHERE at < ? ORDER BY check_name, at').all(rawBefore) as ResultRow[];
    const buckets = new Map<string, { check: string; hour: string; total: number; ok: number; sum: number; lat: number[] }>();
    for (const r of old) {
      const hour = r.at.slice(0, 13) + ':00:00.000Z';
      const key = `${r.check_name}|${hour}`;
      const b = buckets.get(key) ?? { check: r.check_name, hour, total: 0, ok: 0, sum: 0, lat: [] };
      b.total++;
      if (r.ok) {
        b.ok++;
        b.sum += r.latency_ms;
        b.lat.push(r.latency_ms);
      }
      buckets.set(key, b);
    }
    const upsert = db.prepare(
      `INSERT INTO check_rollups (check_name, hour, total, ok, latency_sum, latency_p95) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (check_name, hour) DO UPDATE SET total = check_rollups.total + excluded.total, ok = check_rollups.ok + excluded.ok,
         latency_sum = check_rollups.latency_sum + excluded.latency_sum, latency_p95 = MAX(check_rollups.latency_p95, excluded.latency_p95)`,
    );
    for (const b of buckets.values()) upsert.run(b.check, b.hour, b.total, b.ok, b.sum, percentile(b.lat.sort((x, y) => x - y), 95) ?? 0);
    db.prepare('DELETE FROM check_results WHERE at < ?').run(rawBefore);
    db.prepare('DELETE FROM check_rollups WHERE hour < ?').run(rollupBefore);
    db.prepare("DELETE FROM outbox WHERE status = 'done' AND created_at < ?").run(rawBefore);
    let deadLettered: CompactResult['deadLettered'] = [];
    if (cut.deadLetterBefore) {
      deadLettered = (
        db
          .prepare("SELECT seq, notification_id, platform, channel, created_at FROM outbox WHERE status = 'pending' AND created_at < ? ORDER BY seq")
          .all(cut.deadLetterBefore) as { seq: number; notification_id: string; platform: string; channel: string; created_at: string }[]
      ).map((r) => ({ seq: r.seq, notificationId: r.notification_id, platform: r.platform, channel: r.channel, createdAt: r.created_at }));
      db.prepare("UPDATE outbox SET status = 'dead', last_error = 'no process delivered it in time' WHERE status = 'pending' AND created_at < ?").run(cut.deadLetterBefore);
    }
    let pruned = 0;
    const h = cut.historyBefore;
    if (h) {
      const run = (sql: string, ...p: string[]) => (pruned += db.prepare(sql).run(...p).changes);
      run("DELETE FROM alerts WHERE status = 'resolved' AND resolved_at < ?", h);
      run("DELETE FROM alert_events WHERE at < ? AND alert_id NOT IN (SELECT id FROM alerts WHERE status = 'firing')", h);
      run("DELETE FROM outbox WHERE status = 'dead' AND created_at < ?", h);
      // Alert notifications no alert refers to any more and with nothing left to deliver, then their messages.
      run(
        `DELETE FROM notifications WHERE kind = 'alert' AND created_at < ?
           AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.notification_id = notifications.id)
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.notification_id = notifications.id AND o.status = 'pending')`,
        h,
      );
      run('DELETE FROM deliveries WHERE notification_id NOT IN (SELECT id FROM notifications)');
      run('DELETE FROM silences WHERE COALESCE(ended_at, ends_at) < ?', h);
      // Notification buttons written before they had an expiry.
      run("DELETE FROM actions WHERE created_by = 'system' AND expires_at IS NULL AND created_at < ?", h);
    }
    // An expired button is refused exactly like an unknown one, so its row can go.
    if (cut.now) pruned += db.prepare('DELETE FROM actions WHERE expires_at IS NOT NULL AND expires_at < ?').run(cut.now).changes;
    return { folded: old.length, pruned, deadLettered };
  });

  const store: HealthStore = {
    async commit(batch, at) {
      commitTx.immediate(batch, at);
    },
    commitSync(batch, at) {
      // Inside the caller's transaction better-sqlite3 runs this as a savepoint; outside, as its own transaction.
      commitTx(batch, at);
    },
    async checkState(check) {
      return doc<CheckState>(db.prepare('SELECT doc FROM check_state WHERE check_name = ?').get(check) as { doc: string } | undefined);
    },
    async checkStates() {
      return docs<CheckState>(db.prepare('SELECT doc FROM check_state ORDER BY check_name').all());
    },
    async results(check, since, limit) {
      const rows = db.prepare('SELECT * FROM check_results WHERE check_name = ? AND at >= ? ORDER BY at DESC LIMIT ?').all(check, since, limit) as ResultRow[];
      return rows.map(toResult);
    },
    async stats(check, since) {
      const raw = db.prepare('SELECT ok, latency_ms FROM check_results WHERE check_name = ? AND at >= ?').all(check, since) as { ok: number; latency_ms: number }[];
      const roll = db
        .prepare('SELECT COALESCE(SUM(total), 0) AS total, COALESCE(SUM(ok), 0) AS ok FROM check_rollups WHERE check_name = ? AND hour >= ?')
        .get(check, since.slice(0, 13) + ':00:00.000Z') as { total: number; ok: number };
      const lat = raw.filter((r) => r.ok === 1).map((r) => r.latency_ms).sort((a, b) => a - b);
      const p50 = percentile(lat, 50);
      const p95 = percentile(lat, 95);
      return {
        total: raw.length + roll.total,
        ok: lat.length + roll.ok,
        ...(p50 !== undefined ? { p50 } : {}),
        ...(p95 !== undefined ? { p95 } : {}),
      };
    },
    async compact(rawBefore, rollupBefore, cutoffs) {
      return compactTx.immediate(rawBefore, rollupBefore, cutoffs ?? {});
    },

    async alert(id) {
      return doc<Alert>(db.prepare('SELECT doc FROM alerts WHERE id = ?').get(id) as { doc: string } | undefined);
    },
    async firingAlert(key) {
      return doc<Alert>(db.prepare("SELECT doc FROM alerts WHERE dedup_key = ? AND status = 'firing'").get(key) as { doc: string } | undefined);
    },
    async alerts({ status, cluster, notificationId, since, limit }) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (status) where.push('status = ?') && params.push(status);
      if (cluster) where.push('cluster = ?') && params.push(cluster);
      if (since) where.push('fired_at >= ?') && params.push(since);
      // Filtered in SQL (indexed): a filter after the LIMIT would miss a notification's alerts once history grows.
      if (notificationId) where.push('notification_id = ?') && params.push(notificationId);
      return docs<Alert>(
        db.prepare(`SELECT doc FROM alerts ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY fired_at, id LIMIT ?`).all(...params, limit ?? 1000),
      );
    },
    async alertEvents({ cluster, alertId, after, until }) {
      const where: string[] = [];
      const params: string[] = [];
      if (cluster) where.push('cluster = ?') && params.push(cluster);
      if (alertId) where.push('alert_id = ?') && params.push(alertId);
      if (after) where.push('at >= ?') && params.push(after);
      if (until) where.push('at <= ?') && params.push(until);
      const rows = db
        .prepare(`SELECT alert_id, at, cluster, type, actor, detail FROM alert_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY at, rowid`)
        .all(...params) as { alert_id: string; at: string; cluster: string; type: AlertEvent['type']; actor: string; detail: string }[];
      return rows.map((r) => ({ alertId: r.alert_id, at: r.at, cluster: r.cluster, type: r.type, actor: r.actor, detail: r.detail }));
    },

    async notification(id) {
      return doc<Notification>(db.prepare('SELECT doc FROM notifications WHERE id = ?').get(id) as { doc: string } | undefined);
    },
    async recentAlertNotification(cluster, since) {
      return doc<Notification>(
        db.prepare("SELECT doc FROM notifications WHERE kind = 'alert' AND cluster = ? AND created_at >= ? ORDER BY created_at DESC LIMIT 1").get(cluster, since) as
          | { doc: string }
          | undefined,
      );
    },
    async deliveries(notificationId) {
      const rows = db.prepare('SELECT * FROM deliveries WHERE notification_id = ?').all(notificationId) as {
        notification_id: string; platform: string; channel: string; message_id: string; thread_id: string | null;
      }[];
      return rows.map((r) => ({
        notificationId: r.notification_id, platform: r.platform, channel: r.channel, messageId: r.message_id,
        ...(r.thread_id ? { threadId: r.thread_id } : {}),
      }));
    },
    async saveDelivery(d: Delivery) {
      db.prepare(
        `INSERT INTO deliveries (notification_id, platform, channel, message_id, thread_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (notification_id, platform, channel) DO UPDATE SET message_id = excluded.message_id, thread_id = excluded.thread_id`,
      ).run(d.notificationId, d.platform, d.channel, d.messageId, d.threadId ?? null);
    },

    async claimOutbox(now, platforms, limit, leaseUntil) {
      return claimTx.immediate(now, platforms, limit, leaseUntil);
    },
    async completeOutbox(seq) {
      db.prepare("UPDATE outbox SET status = 'done', locked_until = NULL WHERE seq = ?").run(seq);
    },
    async retryOutbox(seq, nextAttemptAt, error, dead) {
      db.prepare('UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, locked_until = NULL WHERE seq = ?').run(
        dead ? 'dead' : 'pending', nextAttemptAt, error, seq,
      );
    },
    async gauges() {
      const all = <T>(sql: string) => db.prepare(sql).all() as T[];
      return {
        outbox: all<{ platform: string; pending: number; oldestAt: string }>(
          "SELECT platform, COUNT(*) AS pending, MIN(created_at) AS oldestAt FROM outbox WHERE status = 'pending' GROUP BY platform",
        ),
        deadLettered: all<{ platform: string; count: number }>("SELECT platform, COUNT(*) AS count FROM outbox WHERE status = 'dead' GROUP BY platform"),
        firing: all<{ cluster: string; severity: string; count: number }>(
          "SELECT cluster, json_extract(doc, '$.severity') AS severity, COUNT(*) AS count FROM alerts WHERE status = 'firing' GROUP BY 1, 2",
        ),
        openIncidents: all<{ cluster: string; count: number }>("SELECT COALESCE(cluster, '') AS cluster, COUNT(*) AS count FROM incidents WHERE status != 'resolved' GROUP BY 1"),
      };
    },
    async pendingOutbox(platforms) {
      const only = platforms ? ` AND o.platform IN (${platforms.map(() => '?').join(', ') || "''"})` : '';
      const count = db.prepare(`SELECT COUNT(*) FROM outbox o WHERE o.status = 'pending'${only}`).pluck().get(...(platforms ?? [])) as number;
      // A job behind another of the same message cannot be claimed before that one is done (the drain after
      // it completes looks again), and a leased job not before its lease ends: waking earlier only spins.
      const next = db
        .prepare(
          `SELECT MIN(MAX(o.next_attempt_at, COALESCE(o.locked_until, ''))) FROM outbox o
           WHERE o.status = 'pending'${only}
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending' AND p.notification_id = o.notification_id
                               AND p.platform = o.platform AND p.channel = o.channel AND p.seq < o.seq)`,
        )
        .pluck()
        .get(...(platforms ?? [])) as string | null;
      return { count, ...(next ? { nextAttemptAt: next } : {}) };
    },

    async silences({ activeAt, kind }) {
      const where: string[] = [];
      const params: string[] = [];
      if (activeAt) where.push('starts_at <= ? AND ends_at > ? AND ended_at IS NULL') && params.push(activeAt, activeAt);
      if (kind) where.push('kind = ?') && params.push(kind);
      const rows = db.prepare(`SELECT * FROM silences ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY starts_at`).all(...params) as {
        id: string; kind: Silence['kind']; target: string; reason: string; created_by: string; starts_at: string; ends_at: string; ended_at: string | null;
      }[];
      return rows.map((r) => ({
        id: r.id, kind: r.kind, target: r.target, reason: r.reason, createdBy: r.created_by, startsAt: r.starts_at, endsAt: r.ends_at,
        ...(r.ended_at ? { endedAt: r.ended_at } : {}),
      }));
    },
    async silence(id) {
      return (await store.silences({})).find((s) => s.id === id);
    },

    async incident(id) {
      return doc<Incident>(db.prepare('SELECT doc FROM incidents WHERE id = ?').get(id) as { doc: string } | undefined);
    },
    async incidents({ open, since, cluster }) {
      const where: string[] = [];
      const params: string[] = [];
      if (open) where.push("status <> 'resolved'");
      if (since) where.push('declared_at >= ?') && params.push(since);
      if (cluster) where.push('cluster = ?') && params.push(cluster);
      return docs<Incident>(db.prepare(`SELECT doc FROM incidents ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id`).all(...params));
    },
    async nextIncidentId() {
      return (db.prepare('SELECT COALESCE(MAX(id), 0) + 1 FROM incidents').pluck().get() as number);
    },
    async timeline(incidentId) {
      return db
        .prepare('SELECT incident_id AS incidentId, at, actor, type, text FROM incident_timeline WHERE incident_id = ? ORDER BY at, rowid')
        .all(incidentId) as TimelineEntry[];
    },
  };
  return store;
}
