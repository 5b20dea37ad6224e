import { sql, type SqlFragment } from './db/sql.js';
import type { SqlDb } from './db/sql-db.js';
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

const fromFiring = (r: FiringRow): Firing => ({
  scheduleId: r.schedule_id, fireAt: r.fire_at, ranAt: r.ran_at, outcome: r.outcome, ...(r.detail ? { detail: r.detail } : {}),
});

/** The schedule store on the app's unit of work (either backend; migrations applied by the main store). */
export function createSqlScheduleStore(db: SqlDb): ScheduleStore {
  return {
    async insert(tx, s) {
      const r = await tx.run(sql`INSERT INTO schedules (id, kind, name, spec, cron, tz, command, author_id, author_name, platform, channel, status, status_reason, created_at, next_fire_at, last_fire_at, last_outcome, guard, version)
        VALUES (${s.id}, ${s.kind}, ${s.name ?? null}, ${s.spec}, ${s.cron ?? null}, ${s.tz}, ${s.command}, ${s.authorId}, ${s.authorName}, ${s.platform}, ${s.channel},
          ${s.status}, ${s.statusReason ?? null}, ${s.createdAt}, ${s.nextFireAt ?? null}, ${s.lastFireAt ?? null}, ${s.lastOutcome ?? null}, ${s.guard ? JSON.stringify(s.guard) : null}, ${s.version})
        ON CONFLICT (id) DO NOTHING`);
      return r.changes > 0;
    },
    async update(tx, s) {
      const r = await tx.run(sql`UPDATE schedules SET name = ${s.name ?? null}, status = ${s.status}, status_reason = ${s.statusReason ?? null}, next_fire_at = ${s.nextFireAt ?? null}, version = version + 1
        WHERE id = ${s.id} AND version = ${s.version}`);
      return r.changes > 0;
    },
    async recordFiring(tx, f, next) {
      await tx.run(sql`INSERT INTO schedule_firings (schedule_id, fire_at, ran_at, outcome, detail) VALUES (${f.scheduleId}, ${f.fireAt}, ${f.ranAt}, ${f.outcome}, ${f.detail ?? null})`);
      const status = next.status ?? null;
      await tx.run(sql`UPDATE schedules SET last_fire_at = ${f.fireAt}, last_outcome = ${f.outcome}, version = version + 1,
          next_fire_at = CASE WHEN next_fire_at = ${next.from} THEN ${next.nextFireAt ?? null} ELSE next_fire_at END,
          status = COALESCE(${status}, status), status_reason = CASE WHEN ${status === null ? 1 : 0} = 1 THEN status_reason ELSE ${next.statusReason ?? null} END
        WHERE id = ${f.scheduleId}`);
    },
    get: async (id) => {
      const r = await db.one<ScheduleRow>(sql`SELECT * FROM schedules WHERE id = ${id}`);
      return r ? fromRow(r) : undefined;
    },
    async list(query = {}, tx = db) {
      const conds: SqlFragment[] = [];
      if (query.kind) conds.push(sql`kind = ${query.kind}`);
      if (query.statuses?.length) conds.push(sql`status IN (${sql.join(query.statuses)})`);
      const filter = conds.length ? sql`WHERE ${sql.join(conds, ' AND ')}` : sql.empty;
      return (await tx.all<ScheduleRow>(sql`SELECT * FROM schedules ${filter} ORDER BY created_at, id`)).map(fromRow);
    },
    due: async (now, limit) =>
      (await db.all<ScheduleRow>(sql`SELECT * FROM schedules WHERE status = 'active' AND next_fire_at <= ${now} ORDER BY next_fire_at LIMIT ${limit}`)).map(fromRow),
    firing: async (id, fireAt) => {
      const r = await db.one<FiringRow>(sql`SELECT * FROM schedule_firings WHERE schedule_id = ${id} AND fire_at = ${fireAt}`);
      return r ? fromFiring(r) : undefined;
    },
    firings: async (id, limit) =>
      (await db.all<FiringRow>(sql`SELECT * FROM schedule_firings WHERE schedule_id = ${id} ORDER BY fire_at DESC LIMIT ${limit}`)).map(fromFiring),
    prune: async (before) =>
      db.transaction(async (tx) => {
        const firings = await tx.run(sql`DELETE FROM schedule_firings WHERE ran_at < ${before}`);
        // Finished reverts and removed schedules nobody will look at again; their audit records stay.
        const finished = await tx.run(sql`DELETE FROM schedules WHERE status IN ('done', 'removed') AND COALESCE(last_fire_at, created_at) < ${before}
          AND created_at < ${before} AND id NOT LIKE 'cfg-%'`);
        return firings.changes + finished.changes;
      }),
  };
}
