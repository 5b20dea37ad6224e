import type Database from 'better-sqlite3';
import type { Firing, Schedule, ScheduleStore } from './schedule-store.js';

interface ScheduleRow {
  id: string; kind: string; name: string | null; spec: string; cron: string | null; tz: string; command: string;
  author_id: string; author_name: string; platform: string; channel: string | null; status: string; status_reason: string | null;
  created_at: string; next_fire_at: string | null; last_fire_at: string | null; last_outcome: string | null; guard: string | null; version: number;
}
interface FiringRow { schedule_id: string; fire_at: string; ran_at: string; outcome: string; detail: string | null }

const fromRow = (r: ScheduleRow): Schedule => ({
  id: r.id,
  kind: r.kind as Schedule['kind'],
  ...(r.name ? { name: r.name } : {}),
  spec: r.spec,
  ...(r.cron ? { cron: r.cron } : {}),
  tz: r.tz,
  command: r.command,
  authorId: r.author_id,
  authorName: r.author_name,
  platform: r.platform,
  channel: r.channel ?? '',
  status: r.status as Schedule['status'],
  ...(r.status_reason ? { statusReason: r.status_reason } : {}),
  createdAt: r.created_at,
  ...(r.next_fire_at ? { nextFireAt: r.next_fire_at } : {}),
  ...(r.last_fire_at ? { lastFireAt: r.last_fire_at } : {}),
  ...(r.last_outcome ? { lastOutcome: r.last_outcome } : {}),
  ...(r.guard ? { guard: JSON.parse(r.guard) as Schedule['guard'] } : {}),
  version: r.version,
});

const toParams = (s: Schedule) => ({
  id: s.id, kind: s.kind, name: s.name ?? null, spec: s.spec, cron: s.cron ?? null, tz: s.tz, command: s.command,
  author_id: s.authorId, author_name: s.authorName, platform: s.platform, channel: s.channel, status: s.status,
  status_reason: s.statusReason ?? null, created_at: s.createdAt, next_fire_at: s.nextFireAt ?? null, last_fire_at: s.lastFireAt ?? null,
  last_outcome: s.lastOutcome ?? null, guard: s.guard ? JSON.stringify(s.guard) : null, version: s.version,
});

const fromFiring = (r: FiringRow): Firing => ({
  scheduleId: r.schedule_id, fireAt: r.fire_at, ranAt: r.ran_at, outcome: r.outcome, ...(r.detail ? { detail: r.detail } : {}),
});

/** The schedule store on the app's shared SQLite handle (migrations applied by the main store). */
export function createSqliteScheduleStore(db: Database.Database): ScheduleStore {
  const q = {
    insert: db.prepare(
      `INSERT INTO schedules (id, kind, name, spec, cron, tz, command, author_id, author_name, platform, channel, status, status_reason, created_at, next_fire_at, last_fire_at, last_outcome, guard, version)
       VALUES (@id, @kind, @name, @spec, @cron, @tz, @command, @author_id, @author_name, @platform, @channel, @status, @status_reason, @created_at, @next_fire_at, @last_fire_at, @last_outcome, @guard, @version)`,
    ),
    update: db.prepare(
      `UPDATE schedules SET name = @name, status = @status, status_reason = @status_reason, next_fire_at = @next_fire_at, version = version + 1
       WHERE id = @id AND version = @version`,
    ),
    insertFiring: db.prepare('INSERT INTO schedule_firings (schedule_id, fire_at, ran_at, outcome, detail) VALUES (?, ?, ?, ?, ?)'),
    advance: db.prepare(
      `UPDATE schedules SET last_fire_at = @fire_at, last_outcome = @outcome, version = version + 1,
         next_fire_at = CASE WHEN next_fire_at = @from THEN @next ELSE next_fire_at END,
         status = COALESCE(@status, status), status_reason = CASE WHEN @status IS NULL THEN status_reason ELSE @reason END
       WHERE id = @id`,
    ),
    get: db.prepare('SELECT * FROM schedules WHERE id = ?'),
    all: db.prepare('SELECT * FROM schedules ORDER BY created_at, id'),
    pruneFirings: db.prepare('DELETE FROM schedule_firings WHERE ran_at < ?'),
    // Finished reverts and removed schedules nobody will look at again; their audit records stay.
    pruneFinished: db.prepare(
      "DELETE FROM schedules WHERE status IN ('done', 'removed') AND COALESCE(last_fire_at, created_at) < ? AND created_at < ? AND id NOT LIKE 'cfg-%'",
    ),
    due: db.prepare("SELECT * FROM schedules WHERE status = 'active' AND next_fire_at <= ? ORDER BY next_fire_at LIMIT ?"),
    firing: db.prepare('SELECT * FROM schedule_firings WHERE schedule_id = ? AND fire_at = ?'),
    firings: db.prepare('SELECT * FROM schedule_firings WHERE schedule_id = ? ORDER BY fire_at DESC LIMIT ?'),
  };
  return {
    insertSync: (s) => void q.insert.run(toParams(s)),
    updateSync: (s) => q.update.run(toParams(s)).changes > 0,
    recordFiringSync(f, next) {
      q.insertFiring.run(f.scheduleId, f.fireAt, f.ranAt, f.outcome, f.detail ?? null);
      q.advance.run({ id: f.scheduleId, fire_at: f.fireAt, from: next.from, outcome: f.outcome, next: next.nextFireAt ?? null, status: next.status ?? null, reason: next.statusReason ?? null });
    },
    listSync: () => (q.all.all() as ScheduleRow[]).map(fromRow),
    get: async (id) => {
      const r = q.get.get(id) as ScheduleRow | undefined;
      return r ? fromRow(r) : undefined;
    },
    async list(query = {}) {
      const where: string[] = [];
      const params: string[] = [];
      if (query.kind) where.push('kind = ?') && params.push(query.kind);
      if (query.statuses?.length) where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`) && params.push(...query.statuses);
      const sql = `SELECT * FROM schedules ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, id`;
      return (db.prepare(sql).all(...params) as ScheduleRow[]).map(fromRow);
    },
    due: async (now, limit) => (q.due.all(now, limit) as ScheduleRow[]).map(fromRow),
    firing: async (id, fireAt) => {
      const r = q.firing.get(id, fireAt) as FiringRow | undefined;
      return r ? fromFiring(r) : undefined;
    },
    firings: async (id, limit) => (q.firings.all(id, limit) as FiringRow[]).map(fromFiring),
    prune: async (before) =>
      db.transaction(() => q.pruneFirings.run(before).changes + q.pruneFinished.run(before, before).changes).immediate(),
  };
}
