import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Reply } from '../framework/reply.js';
import type { Delivery, OutboxDraft, OutboxFailureKind, OutboxJob } from './health-store.js';

/**
 * The durable outbox's SQL: jobs written in the same transaction as the decision that caused them, leased
 * to one deliverer at a time with a random token, and finished (done, retried, dead) only by the holder of
 * that token — a deliverer whose lease ran out cannot overwrite the work of the one that took the job over.
 */

interface OutboxRow {
  seq: number; notification_id: string; platform: string; channel: string; op: 'sync' | 'reply'; body: string | null;
  created_at: string; attempts: number; next_attempt_at: string; lease_token: string; claims: number; last_error_kind: string | null;
}

/** Adds jobs (ids from the table's own sequence); run inside the caller's transaction. */
export function enqueueOutbox(db: Database.Database, drafts: readonly OutboxDraft[], at: string): void {
  const insert = db.prepare(
    `INSERT INTO outbox (notification_id, platform, channel, op, body, created_at, status, attempts, next_attempt_at, claims)
     VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, 0)`,
  );
  for (const o of drafts) insert.run(o.notificationId, o.platform, o.channel, o.op, o.body ? JSON.stringify(o.body) : null, at, at);
}

export interface ClaimOutboxArgs {
  now: string;
  platforms: readonly string[];
  limit: number;
  leaseUntil: string;
}

/**
 * Leases up to `limit` due jobs whose earlier jobs for the same message are done (or dead), each with a fresh
 * random token. Run in a write transaction so two deliverers never lease the same job.
 */
export function claimOutbox(db: Database.Database, { now, platforms, limit, leaseUntil }: ClaimOutboxArgs): OutboxJob[] {
  if (platforms.length === 0) return [];
  const rows = db
    .prepare(
      `SELECT o.seq FROM outbox o
       WHERE o.status = 'pending' AND o.next_attempt_at <= ? AND (o.locked_until IS NULL OR o.locked_until < ?)
         AND o.platform IN (${platforms.map(() => '?').join(', ')})
         AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending' AND p.notification_id = o.notification_id
                           AND p.platform = o.platform AND p.channel = o.channel AND p.seq < o.seq)
       ORDER BY o.seq LIMIT ?`,
    )
    .all(now, now, ...platforms, limit) as { seq: number }[];
  const lease = db.prepare('UPDATE outbox SET locked_until = ?, lease_token = ?, claims = claims + 1 WHERE seq = ? RETURNING *');
  return rows.map(({ seq }) => toJob(lease.get(leaseUntil, randomBytes(12).toString('base64url'), seq) as OutboxRow));
}

export interface CompleteOutboxArgs {
  seq: number;
  leaseToken: string;
  /** Where the job's message landed, recorded together with the job's completion. */
  delivery?: Delivery;
}

/** Marks the job done (and records its delivery) if `leaseToken` still holds its lease; false when it was lost. */
export function completeOutbox(db: Database.Database, { seq, leaseToken, delivery }: CompleteOutboxArgs): boolean {
  const done = db.prepare("UPDATE outbox SET status = 'done', locked_until = NULL WHERE seq = ? AND lease_token = ? AND status = 'pending'").run(seq, leaseToken);
  if (done.changes !== 1) return false;
  if (delivery) saveDelivery(db, delivery);
  return true;
}

export interface RetryOutboxArgs {
  seq: number;
  leaseToken: string;
  nextAttemptAt: string;
  error: string;
  kind: OutboxFailureKind;
  /** Given up: the job is dead-lettered and no longer holds back later jobs of its message. */
  dead: boolean;
  /** A message the job did post before failing (a 'sync' whose old message was gone), kept so no retry posts it again. */
  delivery?: Delivery;
}

/** Schedules another attempt (or dead-letters the job) if `leaseToken` still holds its lease; false when it was lost. */
export function retryOutbox(db: Database.Database, a: RetryOutboxArgs): boolean {
  const r = db
    .prepare(
      `UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, last_error_kind = ?, locked_until = NULL
       WHERE seq = ? AND lease_token = ? AND status = 'pending'`,
    )
    .run(a.dead ? 'dead' : 'pending', a.nextAttemptAt, a.error, a.kind, a.seq, a.leaseToken);
  if (r.changes !== 1) return false;
  if (a.delivery) saveDelivery(db, a.delivery);
  return true;
}

export function saveDelivery(db: Database.Database, d: Delivery): void {
  db.prepare(
    `INSERT INTO deliveries (notification_id, platform, channel, message_id, thread_id) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (notification_id, platform, channel) DO UPDATE SET message_id = excluded.message_id, thread_id = excluded.thread_id`,
  ).run(d.notificationId, d.platform, d.channel, d.messageId, d.threadId ?? null);
}

export function deliveries(db: Database.Database, notificationId: string): Delivery[] {
  const rows = db.prepare('SELECT * FROM deliveries WHERE notification_id = ?').all(notificationId) as {
    notification_id: string; platform: string; channel: string; message_id: string; thread_id: string | null;
  }[];
  return rows.map((r) => ({
    notificationId: r.notification_id, platform: r.platform, channel: r.channel, messageId: r.message_id,
    ...(r.thread_id ? { threadId: r.thread_id } : {}),
  }));
}

/**
 * Pending jobs (for the given platforms, if any) and the earliest time one could be claimed: only jobs at the
 * head of their message's queue count, each at the later of its retry time and its lease's end.
 */
export function pendingOutbox(db: Database.Database, platforms?: readonly string[]): { count: number; nextAttemptAt?: string } {
  const only = platforms ? ` AND o.platform IN (${platforms.map(() => '?').join(', ') || "''"})` : '';
  const count = db.prepare(`SELECT COUNT(*) FROM outbox o WHERE o.status = 'pending'${only}`).pluck().get(...(platforms ?? [])) as number;
  // Waking earlier than a job can be claimed only spins.
  const next = db
    .prepare(
      `SELECT MIN(CASE WHEN o.locked_until IS NOT NULL AND o.locked_until > o.next_attempt_at THEN o.locked_until ELSE o.next_attempt_at END) FROM outbox o
       WHERE o.status = 'pending'${only}
         AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending' AND p.notification_id = o.notification_id
                           AND p.platform = o.platform AND p.channel = o.channel AND p.seq < o.seq)`,
    )
    .pluck()
    .get(...(platforms ?? [])) as string | null;
  return { count, ...(next ? { nextAttemptAt: next } : {}) };
}

const KINDS: readonly OutboxFailureKind[] = ['rate_limited', 'timeout', 'error', 'refused', 'gone'];

function toJob(r: OutboxRow): OutboxJob {
  const kind = KINDS.find((k) => k === r.last_error_kind);
  return {
    seq: r.seq, notificationId: r.notification_id, platform: r.platform, channel: r.channel, op: r.op,
    ...(r.body ? { body: JSON.parse(r.body) as Reply } : {}),
    createdAt: r.created_at, attempts: r.attempts, nextAttemptAt: r.next_attempt_at,
    leaseToken: r.lease_token, claims: r.claims, ...(kind ? { lastFailure: kind } : {}),
  };
}
