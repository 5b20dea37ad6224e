import { randomBytes } from 'node:crypto';
import type { Reply } from '../framework/reply.js';
import { sql, type SqlFragment } from './db/sql.js';
import type { SqlDb, SqlExecutor } from './db/sql-db.js';
import type { Delivery, OutboxDraft, OutboxFailureKind, OutboxJob } from './health-store.js';

/**
 * The durable outbox, on either backend. Jobs are written inside the unit of work that decided them (an alert
 * and the post announcing it commit together), leased to one deliverer at a time with a random token, and
 * finished (done, retried, dead) only by the holder of that token: a deliverer whose lease ran out cannot
 * overwrite the work of the one that took the job over. Ids come from the table's identity column.
 */

interface OutboxRow {
  seq: number; notification_id: string; platform: string; channel: string; op: 'sync' | 'reply'; body: string | null;
  created_at: string; attempts: number; next_attempt_at: string; lease_token: string; claims: number; last_error_kind: string | null;
}

/** The INSERT of one job (exported for the SQLite health store's synchronous commit until it moves to the port). */
export function insertOutboxSql(o: OutboxDraft, at: string): SqlFragment {
  return sql`INSERT INTO outbox (notification_id, platform, channel, op, body, created_at, status, attempts, next_attempt_at, claims)
    VALUES (${o.notificationId}, ${o.platform}, ${o.channel}, ${o.op}, ${o.body ? JSON.stringify(o.body) : null}, ${at}, 'pending', 0, ${at}, 0)`;
}

/** Adds jobs; run it on the caller's unit of work so they commit with the decision that caused them. */
export async function enqueueOutbox(tx: SqlExecutor, drafts: readonly OutboxDraft[], at: string): Promise<void> {
  for (const o of drafts) await tx.run(insertOutboxSql(o, at));
}

export interface ClaimOutboxArgs {
  now: string;
  platforms: readonly string[];
  limit: number;
  leaseUntil: string;
}

const notBehindPending = sql`NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending' AND p.notification_id = o.notification_id
  AND p.platform = o.platform AND p.channel = o.channel AND p.seq < o.seq)`;

/**
 * Leases up to `limit` due jobs whose earlier jobs for the same message are done (or dead), each with a fresh
 * random token. Each lease is a compare-and-set on the row, so of two replicas claiming at once only one gets
 * a job (PostgreSQL re-checks the condition on the locked row; SQLite writers are serialized).
 */
export async function claimOutbox(db: SqlDb, { now, platforms, limit, leaseUntil }: ClaimOutboxArgs): Promise<OutboxJob[]> {
  if (platforms.length === 0) return [];
  return db.transaction(async (tx) => {
    const due = await tx.all<{ seq: number }>(sql`SELECT o.seq FROM outbox o
      WHERE o.status = 'pending' AND o.next_attempt_at <= ${now} AND (o.locked_until IS NULL OR o.locked_until < ${now})
        AND o.platform IN (${sql.join(platforms)}) AND ${notBehindPending}
      ORDER BY o.seq LIMIT ${limit}`);
    const jobs: OutboxJob[] = [];
    for (const { seq } of due) {
      const row = await tx.one<OutboxRow>(sql`UPDATE outbox SET locked_until = ${leaseUntil}, lease_token = ${randomBytes(12).toString('base64url')}, claims = claims + 1
        WHERE seq = ${seq} AND status = 'pending' AND (locked_until IS NULL OR locked_until < ${now}) RETURNING *`);
      if (row) jobs.push(toJob(row));
    }
    return jobs;
  });
}

export interface CompleteOutboxArgs {
  seq: number;
  leaseToken: string;
  /** Where the job's message landed, recorded together with the job's completion. */
  delivery?: Delivery;
}

/** Marks the job done (and records its delivery) if `leaseToken` still holds its lease; false when it was lost. */
export async function completeOutbox(db: SqlDb, { seq, leaseToken, delivery }: CompleteOutboxArgs): Promise<boolean> {
  return db.transaction(async (tx) => {
    const done = await tx.run(sql`UPDATE outbox SET status = 'done', locked_until = NULL WHERE seq = ${seq} AND lease_token = ${leaseToken} AND status = 'pending'`);
    if (done.changes !== 1) return false;
    if (delivery) await saveDelivery(tx, delivery);
    return true;
  });
}

export interface RetryOutboxArgs {
  seq: number;
  leaseToken: string;
  nextAttemptAt: string;
  error: string;
  kind: OutboxFailureKind;
  /** Given up: the job is dead-lettered and no longer holds back later jobs of its message. */
  dead: boolean;
}

/** Schedules another attempt (or dead-letters the job) if `leaseToken` still holds its lease; false when it was lost. */
export async function retryOutbox(db: SqlExecutor, a: RetryOutboxArgs): Promise<boolean> {
  const r = await db.run(sql`UPDATE outbox SET status = ${a.dead ? 'dead' : 'pending'}, attempts = attempts + 1, next_attempt_at = ${a.nextAttemptAt},
      last_error = ${a.error}, last_error_kind = ${a.kind}, locked_until = NULL
    WHERE seq = ${a.seq} AND lease_token = ${a.leaseToken} AND status = 'pending'`);
  return r.changes === 1;
}

export async function saveDelivery(tx: SqlExecutor, d: Delivery): Promise<void> {
  await tx.run(sql`INSERT INTO deliveries (notification_id, platform, channel, message_id, thread_id)
    VALUES (${d.notificationId}, ${d.platform}, ${d.channel}, ${d.messageId}, ${d.threadId ?? null})
    ON CONFLICT (notification_id, platform, channel) DO UPDATE SET message_id = excluded.message_id, thread_id = excluded.thread_id`);
}

export async function deliveries(db: SqlExecutor, notificationId: string): Promise<Delivery[]> {
  const rows = await db.all<{ notification_id: string; platform: string; channel: string; message_id: string; thread_id: string | null }>(
    sql`SELECT * FROM deliveries WHERE notification_id = ${notificationId}`,
  );
  return rows.map((r) => ({
    notificationId: r.notification_id, platform: r.platform, channel: r.channel, messageId: r.message_id,
    ...(r.thread_id ? { threadId: r.thread_id } : {}),
  }));
}

/**
 * Pending jobs (for the given platforms, if any) and the earliest time one could be claimed: only jobs at the
 * head of their message's queue count, each at the later of its retry time and its lease's end (waking
 * earlier only spins).
 */
export async function pendingOutbox(db: SqlExecutor, platforms?: readonly string[]): Promise<{ count: number; nextAttemptAt?: string }> {
  if (platforms && platforms.length === 0) return { count: 0 };
  const only = platforms ? sql` AND o.platform IN (${sql.join(platforms)})` : sql.empty;
  const count = await db.one<{ n: number }>(sql`SELECT COUNT(*) AS n FROM outbox o WHERE o.status = 'pending'${only}`);
  const next = await db.one<{ at: string | null }>(sql`SELECT MIN(CASE WHEN o.locked_until IS NOT NULL AND o.locked_until > o.next_attempt_at
      THEN o.locked_until ELSE o.next_attempt_at END) AS at
    FROM outbox o WHERE o.status = 'pending'${only} AND ${notBehindPending}`);
  return { count: Number(count?.n ?? 0), ...(next?.at ? { nextAttemptAt: next.at } : {}) };
}

/** A job given up on by age (for the log and the dead-letter notice). */
export interface DeadLetteredJob {
  seq: number;
  notificationId: string;
  platform: string;
  channel: string;
  createdAt: string;
}

/**
 * Dead-letters jobs still pending that were written before `before` (nobody could deliver them in time), except
 * one being delivered right now (its lease holds at `now`): its deliverer finishes or fails it.
 */
export async function deadLetterStaleOutbox(tx: SqlExecutor, { before, now }: { before: string; now: string }): Promise<DeadLetteredJob[]> {
  const rows = await tx.all<{ seq: number; notification_id: string; platform: string; channel: string; created_at: string }>(sql`UPDATE outbox
    SET status = 'dead', last_error = 'no process delivered it in time', locked_until = NULL
    WHERE status = 'pending' AND created_at < ${before} AND (locked_until IS NULL OR locked_until < ${now})
    RETURNING seq, notification_id, platform, channel, created_at`);
  return rows
    .map((r) => ({ seq: Number(r.seq), notificationId: r.notification_id, platform: r.platform, channel: r.channel, createdAt: r.created_at }))
    .sort((a, b) => a.seq - b.seq);
}

/** Deletes delivered jobs written before `doneBefore` and dead ones written before `deadBefore`; returns how many of each. */
export async function pruneOutbox(tx: SqlExecutor, { doneBefore, deadBefore }: { doneBefore: string; deadBefore?: string }): Promise<{ done: number; dead: number }> {
  const done = await tx.run(sql`DELETE FROM outbox WHERE status = 'done' AND created_at < ${doneBefore}`);
  const dead = deadBefore ? await tx.run(sql`DELETE FROM outbox WHERE status = 'dead' AND created_at < ${deadBefore}`) : { changes: 0 };
  return { done: done.changes, dead: dead.changes };
}

/** Pending jobs per platform with the creation time of the oldest, and dead-lettered jobs kept, per platform. */
export async function outboxGauges(db: SqlExecutor): Promise<{ outbox: { platform: string; pending: number; oldestAt: string }[]; deadLettered: { platform: string; count: number }[] }> {
  const pending = await db.all<{ platform: string; pending: number; oldest_at: string }>(
    sql`SELECT platform, COUNT(*) AS pending, MIN(created_at) AS oldest_at FROM outbox WHERE status = 'pending' GROUP BY platform ORDER BY platform`,
  );
  const dead = await db.all<{ platform: string; count: number }>(sql`SELECT platform, COUNT(*) AS count FROM outbox WHERE status = 'dead' GROUP BY platform ORDER BY platform`);
  return {
    outbox: pending.map((r) => ({ platform: r.platform, pending: Number(r.pending), oldestAt: r.oldest_at })),
    deadLettered: dead.map((r) => ({ platform: r.platform, count: Number(r.count) })),
  };
}

const KINDS: readonly OutboxFailureKind[] = ['rate_limited', 'timeout', 'error', 'refused', 'gone'];

function toJob(r: OutboxRow): OutboxJob {
  const kind = KINDS.find((k) => k === r.last_error_kind);
  return {
    seq: Number(r.seq), notificationId: r.notification_id, platform: r.platform, channel: r.channel, op: r.op,
    ...(r.body ? { body: JSON.parse(r.body) as Reply } : {}),
    createdAt: r.created_at, attempts: r.attempts, nextAttemptAt: r.next_attempt_at,
    leaseToken: r.lease_token, claims: r.claims, ...(kind ? { lastFailure: kind } : {}),
  };
}
