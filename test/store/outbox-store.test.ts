import { afterEach, expect, it } from 'vitest';
import { migrateSqlDb } from '../../src/store/db/migrate-sql-db.js';
import { sql } from '../../src/store/db/sql.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import type { OutboxDraft } from '../../src/store/health-store.js';
import {
  claimOutbox, completeOutbox, deadLetterStaleOutbox, deliveries, enqueueOutbox, outboxGauges, pendingOutbox, pruneOutbox, retryOutbox,
} from '../../src/store/outbox-store.js';
import { describeEachBackend } from '../helpers/sql-backends.js';

const T0 = Date.parse('2026-11-21T03:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const job = (notificationId: string, op: 'sync' | 'reply' = 'sync', channel = 'C1'): OutboxDraft => ({ notificationId, platform: 'slack', channel, op });

describeEachBackend('outbox store', (backend) => {
  afterEach(() => backend.cleanup());

  async function open(): Promise<SqlDb> {
    const db = await backend.open();
    await migrateSqlDb(db);
    return db;
  }
  const claim = (db: SqlDb, at: number, leaseMs = 60_000, limit = 32) => claimOutbox(db, { now: iso(at), platforms: ['slack'], limit, leaseUntil: iso(at + leaseMs) });

  it('takes ids from the table, in commit order, inside the caller\'s unit of work', async () => {
    const db = await open();
    await db.transaction((tx) => enqueueOutbox(tx, [job('n1'), job('n2')], iso(0)));
    await expect(db.transaction(async (tx) => {
      await enqueueOutbox(tx, [job('n3')], iso(0));
      throw new Error('the decision was rolled back');
    })).rejects.toThrow('rolled back');
    await db.transaction((tx) => enqueueOutbox(tx, [job('n4')], iso(0)));
    const rows = await db.all<{ seq: number; notification_id: string }>(sql`SELECT seq, notification_id FROM outbox ORDER BY seq`);
    expect(rows.map((r) => r.notification_id)).toEqual(['n1', 'n2', 'n4']);
    expect(rows.map((r) => r.seq)).toEqual([...rows.map((r) => r.seq)].sort((a, b) => a - b));
    expect(new Set(rows.map((r) => r.seq)).size).toBe(3);
  });

  it('leases a job to one claimer at a time; only the current token completes or retries it', async () => {
    const db = await open();
    await db.transaction((tx) => enqueueOutbox(tx, [job('n1')], iso(0)));
    const [mine] = await claim(db, 0, 1000);
    expect(await claim(db, 500)).toEqual([]);
    const [theirs] = await claim(db, 2000);
    expect(theirs).toMatchObject({ seq: mine!.seq, claims: 2 });
    expect(theirs!.leaseToken).not.toBe(mine!.leaseToken);

    const delivery = { notificationId: 'n1', platform: 'slack', channel: 'C1', messageId: '1.1' };
    expect(await completeOutbox(db, { seq: mine!.seq, leaseToken: mine!.leaseToken, delivery })).toBe(false);
    expect(await retryOutbox(db, { seq: mine!.seq, leaseToken: mine!.leaseToken, nextAttemptAt: iso(0), error: 'x', kind: 'timeout', dead: false })).toBe(false);
    expect(await deliveries(db, 'n1')).toEqual([]);
    expect(await completeOutbox(db, { seq: theirs!.seq, leaseToken: theirs!.leaseToken, delivery })).toBe(true);
    expect(await deliveries(db, 'n1')).toEqual([delivery]);
    expect(await pendingOutbox(db, ['slack'])).toEqual({ count: 0 });
  });

  it('gives each due job to exactly one of several concurrent claimers', async () => {
    const db = await open();
    await db.transaction((tx) => enqueueOutbox(tx, Array.from({ length: 30 }, (_, i) => job(`n${i}`)), iso(0)));
    const rounds = await Promise.all(Array.from({ length: 4 }, () => claim(db, 0, 60_000, 10)));
    const seqs = rounds.flat().map((j) => j.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length).toBeGreaterThanOrEqual(10);
  });

  it('keeps a message\'s jobs in order, and a dead job no longer holds back the ones behind it', async () => {
    const db = await open();
    await db.transaction((tx) => enqueueOutbox(tx, [job('n1'), job('n1', 'reply'), job('n2')], iso(0)));
    const first = await claim(db, 0);
    expect(first.map((j) => [j.notificationId, j.op])).toEqual([['n1', 'sync'], ['n2', 'sync']]);
    const head = first[0]!;
    await retryOutbox(db, { seq: head.seq, leaseToken: head.leaseToken, nextAttemptAt: iso(60_000), error: 'channel_not_found', kind: 'gone', dead: true });
    const [next] = await claim(db, 1);
    expect(next).toMatchObject({ notificationId: 'n1', op: 'reply', claims: 1 });
  });

  it('remembers how the last attempt failed, and wakes for the head job at the later of its retry and its lease', async () => {
    const db = await open();
    await db.transaction((tx) => enqueueOutbox(tx, [job('n1'), job('n1', 'reply')], iso(0)));
    const [j] = await claim(db, 0, 1000);
    await retryOutbox(db, { seq: j!.seq, leaseToken: j!.leaseToken, nextAttemptAt: iso(5000), error: 'chat API did not answer', kind: 'timeout', dead: false });
    expect(await pendingOutbox(db, ['slack'])).toEqual({ count: 2, nextAttemptAt: iso(5000) });
    expect(await pendingOutbox(db, ['discord'])).toEqual({ count: 0 });
    const [again] = await claim(db, 5000, 30_000);
    expect(again).toMatchObject({ attempts: 1, claims: 2, lastFailure: 'timeout' });
    expect(await pendingOutbox(db)).toEqual({ count: 2, nextAttemptAt: iso(35_000) });
  });

  it('dead-letters stale jobs except one being delivered, counts them, and prunes finished ones', async () => {
    const db = await open();
    await db.transaction((tx) => enqueueOutbox(tx, [job('busy', 'sync', 'C2'), job('old')], iso(0)));
    await db.transaction((tx) => enqueueOutbox(tx, [job('new')], iso(50_000)));
    const [busy] = await claim(db, 60_000, 60_000, 1);
    expect(busy!.notificationId).toBe('busy');
    const dead = await db.transaction((tx) => deadLetterStaleOutbox(tx, { before: iso(10_000), now: iso(61_000) }));
    expect(dead).toEqual([{ seq: expect.any(Number), notificationId: 'old', platform: 'slack', channel: 'C1', createdAt: iso(0) }]);
    expect(await completeOutbox(db, { seq: busy!.seq, leaseToken: busy!.leaseToken })).toBe(true);
    expect(await outboxGauges(db)).toEqual({ outbox: [{ platform: 'slack', pending: 1, oldestAt: iso(50_000) }], deadLettered: [{ platform: 'slack', count: 1 }] });
    expect(await db.transaction((tx) => pruneOutbox(tx, { doneBefore: iso(10_000), deadBefore: iso(10_000) }))).toEqual({ done: 1, dead: 1 });
    expect(await outboxGauges(db)).toEqual({ outbox: [{ platform: 'slack', pending: 1, oldestAt: iso(50_000) }], deadLettered: [] });
  });
});
