import { afterEach, expect, it } from 'vitest';
import { describeEachBackend } from '../helpers/sql-backends.js';
import { migrateSqlDb } from '../../src/store/db/migrate-sql-db.js';
import { advanceCursor, claimBudgetAlert, costsByDay, insertCosts, readCursor, resolveBudgetAlert, spentMicro, unresolvedBudgetAlerts, type CostEntry } from '../../src/store/cost-store.js';

const entry = (id: string, at: string, amount: number, more: Partial<CostEntry> = {}): CostEntry => ({ chargeId: id, cluster: 'api', team: 'payments', action: 'mint', amount, currency: 'USD', at, source: 'guard', ...more });

describeEachBackend('cost store', (backend) => {
  afterEach(() => backend.cleanup());
  const open = async () => {
    const db = await backend.open();
    await migrateSqlDb(db);
    return db;
  };

  it('stores a charge collected twice once, and sums exactly in micro-units', async () => {
    const db = await open();
    expect(await db.transaction((tx) => insertCosts(tx, [entry('a', '2026-12-01T10:00:00Z', 0.1), entry('b', '2026-12-01T11:00:00Z', 0.2)]))).toBe(2);
    expect(await db.transaction((tx) => insertCosts(tx, [entry('a', '2026-12-01T10:00:00Z', 0.1), entry('c', '2026-12-02T01:00:00Z', 0.7, { action: 'other', cluster: 'web' })]))).toBe(1);
    expect(await spentMicro(db, ['api'], '2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z')).toBe(300_000);
    expect(await spentMicro(db, ['api', 'web'], '2026-12-01T00:00:00Z', '2026-12-03T00:00:00Z')).toBe(1_000_000);
    const rows = await costsByDay(db, { since: '2026-12-01T00:00:00Z', until: '2026-12-03T00:00:00Z', clusters: ['api', 'web'] });
    expect(rows.map((r) => [r.day, r.cluster, r.action, r.amount, r.count])).toEqual([['2026-12-01', 'api', 'mint', 0.3, 2], ['2026-12-02', 'web', 'other', 0.7, 1]]);
    expect(await costsByDay(db, { since: '2026-12-01T00:00:00Z', until: '2026-12-03T00:00:00Z', clusters: [] })).toEqual([]);
  });

  it('moves the collection cursor by compare-and-set: a second writer with the same version loses', async () => {
    const db = await open();
    const first = await readCursor(db, 'api');
    expect(first).toEqual({ lastId: '0-0', version: 0 });
    expect(await db.transaction((tx) => advanceCursor(tx, 'api', '5-0', first.version))).toBe(true);
    expect(await db.transaction((tx) => advanceCursor(tx, 'api', '6-0', first.version))).toBe(false);
    const now = await readCursor(db, 'api');
    expect(now).toEqual({ lastId: '5-0', version: 1 });
    expect(await db.transaction((tx) => advanceCursor(tx, 'api', '9-0', now.version))).toBe(true);
    expect(await db.transaction((tx) => advanceCursor(tx, 'api', '9-1', now.version))).toBe(false);
  });

  it('claims a budget alert once per subject, period and threshold, even when claimed concurrently', async () => {
    const db = await open();
    const a = { subject: 'cluster:api', period: 'day:2026-12-01', threshold: 0.8, at: '2026-12-01T10:00:00Z', spentMicro: 8_000_000, cluster: 'api' };
    const claims = await Promise.all(Array.from({ length: 5 }, () => db.transaction((tx) => claimBudgetAlert(tx, a))));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await db.transaction((tx) => claimBudgetAlert(tx, { ...a, threshold: 1 }))).toBe(true);
    expect(await db.transaction((tx) => claimBudgetAlert(tx, { ...a, period: 'day:2026-12-02' }))).toBe(true);
    const old = await unresolvedBudgetAlerts(db, ['day:2026-12-02']);
    expect(old.map((o) => o.threshold).sort()).toEqual([0.8, 1]);
    expect(await db.transaction((tx) => resolveBudgetAlert(tx, old[0]!, '2026-12-02T00:00:01Z'))).toBe(true);
    expect(await db.transaction((tx) => resolveBudgetAlert(tx, old[0]!, '2026-12-02T00:00:02Z'))).toBe(false);
    expect(await unresolvedBudgetAlerts(db, ['day:2026-12-02'])).toHaveLength(1);
  });
});
