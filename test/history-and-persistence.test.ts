import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, manualClock, type TestApp } from './helpers/test-app.js';

let app: TestApp;
afterEach(async () => app?.cleanup());

describe('history --at', () => {
  it('rebuilds the state of a cluster at past times and lists the changes since', async () => {
    const clock = manualClock('2026-11-21T01:00:00.000Z');
    app = await createTestApp({ clock });
    await app.run('ratelimit set api --per-minute 100'); // 01:00
    clock.set('2026-11-21T02:00:00.000Z');
    await app.run('cluster disable api --reason "bad deploy" --yes'); // 02:00
    clock.set('2026-11-21T02:30:00.000Z');
    await app.run('breaker trip web --yes'); // other cluster: not in api's history
    clock.set('2026-11-21T03:00:00.000Z');
    await app.run('cluster enable api --reason "rolled back"'); // 03:00
    clock.set('2026-11-21T04:00:00.000Z');

    const at0130 = await app.run('history api --at 2026-11-21T01:30:00Z');
    expect(at0130.fields).toEqual(expect.arrayContaining([
      { name: 'Traffic', value: '🟢 enabled' },
      { name: 'Rate limits', value: '100/min · 20,000/h · 300,000/day' },
    ]));
    expect(at0130.text).toBe('2 changes since then:');
    expect(at0130.table!.rows).toEqual([
      ['2026-11-21 02:00:00', 'local:root-admin', 'disabled cluster api: bad deploy'],
      ['2026-11-21 03:00:00', 'local:root-admin', 'enabled cluster api: rolled back'],
    ]);

    const twoHoursAgo = await app.run('history api --at 2h'); // 02:00, the moment of the disable
    expect(twoHoursAgo.fields![0]!.value).toContain('🔴 disabled');
    expect(twoHoursAgo.text).toBe('1 change since then:');

    const beforeAll = await app.run('history api --at 2026-11-21T00:00:00Z');
    expect(beforeAll.fields).toContainEqual({ name: 'Rate limits', value: '600/min · 20,000/h · 300,000/day' });

    const global = await app.run('history global --at 5h');
    expect(global.fields).toEqual([{ name: 'Kill-switch', value: 'off' }]);
    expect(global.text).toBe('No changes since then.');
  });

  it("includes the global kill-switch in a cluster's history (it stopped that cluster's traffic); global history stays the kill-switch only", async () => {
    const clock = manualClock('2026-12-02T00:00:00.000Z');
    app = await createTestApp({ clock });
    await app.run('killswitch on --reason "data corruption" --yes'); // 00:00
    clock.set('2026-12-02T00:10:00.000Z');
    await app.run('ratelimit set api --per-minute 100');
    await app.run('role grant local:otto viewer'); // global but not traffic: not in api's history
    await app.run('breaker trip web --yes'); // another cluster
    clock.set('2026-12-02T00:20:00.000Z');
    await app.run('killswitch off'); // 00:20
    clock.set('2026-12-02T00:30:00.000Z');

    const api = await app.run('history api --at 2026-12-02T00:05:00Z');
    expect(api.fields).toContainEqual({ name: 'Kill-switch', value: '🛑 ON' });
    expect(api.text).toBe('2 changes since then:');
    expect(api.table!.rows.map((r) => r[0])).toEqual(['2026-12-02 00:10:00', '2026-12-02 00:20:00']);
    expect(api.data).toMatchObject({ changeCount: 2, changes: [{ scope: 'api', type: 'ratelimit.set' }, { scope: 'global', type: 'killswitch.set' }] });

    const global = await app.run('history global --at 2026-12-02T00:05:00Z');
    expect(global.data).toMatchObject({ changeCount: 2, changes: [{ type: 'role.granted' }, { type: 'killswitch.set' }] });
  });

  it('rejects a time it cannot read', async () => {
    app = await createTestApp();
    expect(await app.run('history api --at "last tuesday"')).toMatchObject({ outcome: 'invalid', text: expect.stringContaining('not a time') });
    expect(await app.run('history nope')).toMatchObject({ outcome: 'invalid', title: 'Not found' });
  });
});

describe('restart persistence', () => {
  it('keeps control state, roles, audit and idempotency across a process restart', async () => {
    const first = await createTestApp();
    await first.run('cluster disable web --reason "maintenance" --yes', { id: 'inv-1' });
    await first.run('role grant local:otto operator --cluster api');
    await first.run('breaker trip api --yes');
    await first.close();

    app = await createTestApp({ dir: first.dir });
    const state = await app.engine.state();
    expect(state.clusters.web).toMatchObject({ enabled: false, change: { reason: 'maintenance' } });
    expect(state.clusters.api!.breaker.state).toBe('open');
    expect((await app.run('ratelimit set api --per-minute 5', { as: 'local:otto' })).outcome).toBe('ok');
    const redelivered = await app.run('cluster disable web --reason "maintenance" --yes', { id: 'inv-1' });
    expect(redelivered.title).toBe('🔴 Cluster web disabled');
    expect(await app.store.events({})).toHaveLength(4);
    // The redelivery is the same invocation: it is neither executed nor audited again.
    expect(await app.store.verifyAudit()).toEqual({ ok: true, count: 4 });
    await first.cleanup();
  });
});
