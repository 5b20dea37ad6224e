import { afterEach, expect, it } from 'vitest';
import { migrateSqlDb } from '../../src/store/db/migrate-sql-db.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import { StaleRowError, type Alert, type Incident } from '../../src/store/health-store.js';
import { createSqlHealthStore } from '../../src/store/sql-health-store.js';
import { describeEachBackend } from '../helpers/sql-backends.js';

const AT = '2026-12-01T03:00:00.000Z';
const firing = (id: string): Alert => ({
  id, dedupKey: `down:${id}`, kind: 'down', cluster: 'api', check: 'api-http', severity: 'critical', status: 'firing', summary: 'api-http is DOWN', firedAt: AT, reminders: 0,
});

describeEachBackend('health store', (backend) => {
  afterEach(() => backend.cleanup());

  const open = async (): Promise<SqlDb> => {
    const db = await backend.open();
    await migrateSqlDb(db);
    return db;
  };

  it('writes a row decided on an older version as a conflict, keeping the newer write', async () => {
    const health = createSqlHealthStore(await open());
    await health.commit({ alerts: [firing('a1')] }, AT);
    const read = (await health.alert('a1'))!;
    expect(read.version).toBe(1);
    // The probe resolves it…
    await health.commit({ alerts: [{ ...read, status: 'resolved', resolvedAt: AT, resolvedBy: 'system' }] }, AT);
    // …and an ack decided on the firing row must not write it back.
    await expect(health.commit({ alerts: [{ ...read, ackedAt: AT, ackedBy: 'alice' }], alertEvents: [{ alertId: 'a1', at: AT, cluster: 'api', type: 'acked', actor: 'alice', detail: '' }] }, AT)).rejects.toBeInstanceOf(StaleRowError);
    const stored = (await health.alert('a1'))!;
    expect(stored).toMatchObject({ status: 'resolved', version: 2 });
    expect(stored.ackedAt).toBeUndefined();
    // Nothing of the refused batch was written.
    expect(await health.alertEvents({ alertId: 'a1' })).toEqual([]);
    // The next outage of that check fires a new alert (the resolved one absorbs nothing).
    await health.commit({ alerts: [firing('a2')].map((a) => ({ ...a, dedupKey: 'down:a1' })) }, AT);
    expect((await health.firingAlert('down:a1'))?.id).toBe('a2');
  });

  it('a unit of work decides again on fresh rows after a conflict', async () => {
    const health = createSqlHealthStore(await open());
    await health.commit({ alerts: [firing('a1')] }, AT);
    const stale = (await health.alert('a1'))!;
    await health.commit({ alerts: [{ ...stale, status: 'resolved', resolvedAt: AT }] }, AT);
    const attempts: number[] = [];
    await health.unit(async (attempt) => {
      attempts.push(attempt);
      const a = attempt === 1 ? stale : (await health.alert('a1'))!;
      await health.commit({ alerts: [{ ...a, ackedAt: AT, ackedBy: 'alice' }] }, AT);
    });
    expect(attempts).toEqual([1, 2]);
    expect(await health.alert('a1')).toMatchObject({ status: 'resolved', ackedBy: 'alice', version: 3 });
  });

  it('versions incidents, silences and check states the same way', async () => {
    const health = createSqlHealthStore(await open());
    const id = await health.nextIncidentId();
    const inc: Incident = { id, title: 'Checkout errors', sev: 2, status: 'open', declaredAt: AT, declaredBy: 'alice', lastUpdateAt: AT };
    await health.commit({ declared: [inc], silences: [{ id: 's1', kind: 'silence', target: 'api', reason: 'r', createdBy: 'alice', startsAt: AT, endsAt: '2026-12-01T04:00:00.000Z' }] }, AT);
    await health.commit({ states: [{ check: 'api-http', cluster: 'api', status: 'up', since: AT, failures: 0, successes: 1, anomalies: 0, samples: 0 }] }, AT);
    const [i, s, c] = [(await health.incident(id))!, (await health.silence('s1'))!, (await health.checkState('api-http'))!];
    await health.commit({ incidents: [{ ...i, status: 'resolved' }], silences: [{ ...s, endedAt: AT }], states: [{ ...c, status: 'down' }] }, AT);
    for (const stale of [{ incidents: [{ ...i, nextReminderAt: AT }] }, { silences: [{ ...s, endsAt: '2026-12-02T00:00:00.000Z' }] }, { states: [{ ...c, failures: 9 }] }]) {
      await expect(health.commit(stale, AT)).rejects.toBeInstanceOf(StaleRowError);
    }
    expect((await health.incident(id))!.status).toBe('resolved');
    expect((await health.silence('s1'))!.endedAt).toBe(AT);
    expect((await health.checkState('api-http'))!.status).toBe('down');
    // A state written as new while one exists is a conflict too (another writer stored it first).
    await expect(health.commit({ states: [{ ...c, version: undefined }] }, AT)).rejects.toBeInstanceOf(StaleRowError);
  });

  it('numbers incidents from a sequence, distinct across connections', async () => {
    const db = await open();
    const health = createSqlHealthStore(db);
    const ids = await Promise.all(Array.from({ length: 10 }, () => health.nextIncidentId()));
    expect(new Set(ids).size).toBe(10);
    expect(Math.min(...ids)).toBe(1);
  });

  it('lets exactly one of several replicas take a due lease slot', async () => {
    const health = createSqlHealthStore(await open());
    await health.leases.ensure(['check:a'], () => AT);
    const [l] = await health.leases.read('check:');
    const wins = await Promise.all(['r1', 'r2', 'r3'].map((r) => health.leases.take(l!, r, '2026-12-01T03:00:30.000Z', '2026-12-01T03:00:10.000Z')));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const [after] = await health.leases.read('check:');
    expect(after).toMatchObject({ nextDueAt: '2026-12-01T03:00:10.000Z', version: 2 });
    expect(['r1', 'r2', 'r3'][wins.indexOf(true)]).toBe(after!.owner);
  });

  it('compacts results into roll-ups and keeps uptime counts', async () => {
    const health = createSqlHealthStore(await open());
    const results = Array.from({ length: 6 }, (_, i) => ({ check: 'c', at: `2026-11-01T0${i}:10:00.000Z`, ok: i % 3 !== 0, latencyMs: 10 + i }));
    await health.commit({ results }, AT);
    const r = await health.compact('2026-11-30T00:00:00.000Z', '2026-10-01T00:00:00.000Z');
    expect(r.folded).toBe(6);
    expect(await health.stats('c', '2026-11-01T00:00:00.000Z')).toMatchObject({ total: 6, ok: 4 });
  });
});
