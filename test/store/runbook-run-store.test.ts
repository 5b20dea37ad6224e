import { afterEach, expect, it } from 'vitest';
import { migrateSqlDb } from '../../src/store/db/migrate-sql-db.js';
import { UniqueViolation } from '../../src/store/db/sql-db.js';
import { getRun, insertRun, listRuns, mutateRun, runByIdempotencyKey, staleRuns, updateRun, type RunRecord } from '../../src/store/runbook-run-store.js';
import { describeEachBackend } from '../helpers/sql-backends.js';

const run = (id: string, over: Partial<RunRecord> = {}): RunRecord => ({
  id, service: 'shop', env: 'production', runbook: 'deploy', cluster: 'api', params: { version: '1.0.0' }, status: 'queued',
  steps: [{ name: 'ship', type: 'exec', status: 'pending' }], requestedBy: 'local:olga', requestedName: 'olga', platform: 'slack', channel: 'C1',
  traceId: 'tr1', idempotencyKey: `key-${id}`, forced: false, createdAt: '2026-12-01T10:00:00.000Z', output: '', version: 1, ...over,
});

describeEachBackend('runbook run records', (backend) => {
  afterEach(() => backend.cleanup());
  const open = async () => {
    const db = await backend.open();
    await migrateSqlDb(db);
    return db;
  };

  it('stores a run whole and reads it back by id and by idempotency key', async () => {
    const db = await open();
    await db.transaction((tx) => insertRun(tx, run('run-a', { forced: true, parentId: 'run-z' })));
    const got = await getRun(db, 'run-a');
    expect(got).toEqual(run('run-a', { forced: true, parentId: 'run-z' }));
    expect((await runByIdempotencyKey(db, 'key-run-a'))?.id).toBe('run-a');
  });

  it('refuses a second run with the same idempotency key', async () => {
    const db = await open();
    await insertRun(db, run('run-a', { idempotencyKey: 'slack:123' }));
    await expect(insertRun(db, run('run-b', { idempotencyKey: 'slack:123' }))).rejects.toBeInstanceOf(UniqueViolation);
    expect(await listRuns(db, {})).toHaveLength(1);
  });

  it('updates compare-and-set on the version: a stale writer changes nothing', async () => {
    const db = await open();
    await insertRun(db, run('run-a'));
    const r = (await getRun(db, 'run-a'))!;
    const next = await updateRun(db, r, { status: 'running', startedAt: '2026-12-01T10:00:01.000Z' });
    expect(next?.version).toBe(2);
    expect(await updateRun(db, r, { status: 'cancelled' })).toBeUndefined();
    expect((await getRun(db, 'run-a'))!.status).toBe('running');
    const both = await Promise.all([mutateRun(db, 'run-a', (x) => ({ output: `${x.output}a` })), mutateRun(db, 'run-a', (x) => ({ output: `${x.output}b` }))]);
    expect(both.every(Boolean)).toBe(true);
    expect((await getRun(db, 'run-a'))!.output.split('').sort().join('')).toBe('ab');
  });

  it('finds runs whose executor stopped beating, and lists newest first with filters', async () => {
    const db = await open();
    await insertRun(db, run('run-a', { createdAt: '2026-12-01T10:00:00.000Z' }));
    await insertRun(db, run('run-b', { createdAt: '2026-12-01T11:00:00.000Z', service: 'web' }));
    const a = (await getRun(db, 'run-a'))!;
    await updateRun(db, a, { status: 'running', heartbeatAt: '2026-12-01T10:00:05.000Z' });
    expect((await staleRuns(db, '2026-12-01T10:01:00.000Z')).map((r) => r.id)).toEqual(['run-a']);
    expect(await staleRuns(db, '2026-12-01T10:00:00.000Z')).toEqual([]);
    expect((await listRuns(db, {})).map((r) => r.id)).toEqual(['run-b', 'run-a']);
    expect((await listRuns(db, { service: 'shop', status: 'running' })).map((r) => r.id)).toEqual(['run-a']);
  });
});
