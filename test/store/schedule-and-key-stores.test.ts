import { afterEach, expect, it } from 'vitest';
import { migrateSqlDb } from '../../src/store/db/migrate-sql-db.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import { createSqlApiKeyStore } from '../../src/store/sql-api-key-store.js';
import { createSqlScheduleStore } from '../../src/store/sql-schedule-store.js';
import type { Schedule } from '../../src/store/schedule-store.js';
import { describeEachBackend } from '../helpers/sql-backends.js';

const schedule = (id: string, extra: Partial<Schedule> = {}): Schedule => ({
  id, kind: 'command', spec: 'daily 02:00', cron: '0 2 * * *', tz: 'UTC', command: 'status', authorId: 'local:a', authorName: 'a',
  platform: 'console', channel: 'console', status: 'active', createdAt: '2026-11-21T00:00:00.000Z', nextFireAt: '2026-11-21T02:00:00.000Z', version: 1,
  ...extra,
});

describeEachBackend('schedule store', (backend) => {
  afterEach(() => backend.cleanup());
  const open = async (): Promise<SqlDb> => {
    const db = await backend.open();
    await migrateSqlDb(db);
    return db;
  };

  it('inserts once per id, updates only the version it read, and lists by kind and status', async () => {
    const db = await open();
    const store = createSqlScheduleStore(db);
    expect(await db.transaction((tx) => store.insert(tx, schedule('s1', { name: 'nightly', guard: { scope: 'cluster:api', types: ['x'], at: 't' } })))).toBe(true);
    expect(await db.transaction((tx) => store.insert(tx, schedule('s1')))).toBe(false); // another replica inserted it first
    await db.transaction((tx) => store.insert(tx, schedule('r1', { kind: 'revert', createdAt: '2026-11-21T00:00:01.000Z' })));
    const s1 = (await store.get('s1'))!;
    expect(s1).toMatchObject({ name: 'nightly', guard: { scope: 'cluster:api' }, version: 1 });
    expect(await db.transaction((tx) => store.update(tx, { ...s1, status: 'paused' }))).toBe(true);
    expect(await db.transaction((tx) => store.update(tx, { ...s1, status: 'removed' }))).toBe(false); // stale version
    expect((await store.list({ kind: 'command' })).map((s) => [s.id, s.status])).toEqual([['s1', 'paused']]);
    expect((await store.list({ statuses: ['active'] })).map((s) => s.id)).toEqual(['r1']);
    expect(await db.transaction((tx) => store.list({}, tx))).toHaveLength(2);
  });

  it('records a firing once per fire time and moves the schedule on unless it was moved meanwhile', async () => {
    const db = await open();
    const store = createSqlScheduleStore(db);
    await db.transaction((tx) => store.insert(tx, schedule('s1')));
    expect((await store.due('2026-11-21T02:00:00.000Z', 10)).map((s) => s.id)).toEqual(['s1']);
    const firing = { scheduleId: 's1', fireAt: '2026-11-21T02:00:00.000Z', ranAt: '2026-11-21T02:00:01.000Z', outcome: 'ok', detail: 'fine' };
    await db.transaction((tx) => store.recordFiring(tx, firing, { from: '2026-11-21T02:00:00.000Z', nextFireAt: '2026-11-22T02:00:00.000Z' }));
    await expect(db.transaction((tx) => store.recordFiring(tx, firing, { from: '2026-11-21T02:00:00.000Z' }))).rejects.toThrow();
    expect(await store.get('s1')).toMatchObject({ lastOutcome: 'ok', nextFireAt: '2026-11-22T02:00:00.000Z', status: 'active', version: 2 });
    await db.transaction((tx) => store.recordFiring(tx, { ...firing, fireAt: '2026-11-22T02:00:00.000Z', outcome: 'denied' }, { from: 'something else', status: 'stopped', statusReason: 'lost the role' }));
    expect(await store.get('s1')).toMatchObject({ nextFireAt: '2026-11-22T02:00:00.000Z', status: 'stopped', statusReason: 'lost the role' });
    expect(await store.firing('s1', firing.fireAt)).toEqual(firing);
    expect((await store.firings('s1', 10)).map((f) => f.outcome)).toEqual(['denied', 'ok']);
    expect(await store.prune('2026-11-23T00:00:00.000Z')).toBe(2);
  });
});

describeEachBackend('API key store', (backend) => {
  afterEach(() => backend.cleanup());

  it('stores keys, revokes once, and claims an idempotency key once with its request', async () => {
    const db = await backend.open();
    await migrateSqlDb(db);
    const keys = createSqlApiKeyStore(db);
    const key = { id: 'k1', name: 'ci', role: 'operator' as const, clusters: ['api'], secretHash: 'h', createdBy: 'local:a', createdAt: '2026-11-21T00:00:00.000Z' };
    await db.transaction((tx) => keys.insert(tx, key));
    await expect(db.transaction((tx) => keys.insert(tx, { ...key, id: 'k2' }))).rejects.toThrow(); // one active key per name
    expect(await keys.get('k1')).toEqual(key);
    expect(await db.transaction((tx) => keys.revoke(tx, 'k1', 'local:b', '2026-11-21T01:00:00.000Z'))).toBe(true);
    expect(await db.transaction((tx) => keys.revoke(tx, 'k1', 'local:b', '2026-11-21T02:00:00.000Z'))).toBe(false);
    expect((await keys.list()).map((k) => k.revokedAt)).toEqual(['2026-11-21T01:00:00.000Z']);
    const claims = await Promise.all([1, 2, 3].map(() => keys.claimIdempotencyKey('k1', 'idem', 'req-a', '2026-11-21T00:00:00.000Z')));
    expect(claims.sort()).toEqual(['new', 'same', 'same']);
    expect(await keys.claimIdempotencyKey('k1', 'idem', 'req-b', '2026-11-21T00:00:00.000Z')).toBe('different');
    expect(await keys.prune('2026-11-22T00:00:00.000Z')).toBe(1);
  });
});
