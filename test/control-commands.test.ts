import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, manualClock, type TestApp } from './helpers/test-app.js';

let app: TestApp;
afterEach(async () => app?.cleanup());

describe('control commands', () => {
  it('asks before a dangerous action, and the Confirm button runs it as the clicker', async () => {
    app = await createTestApp();
    const ask = await app.run('cluster disable api --reason "bad deploy"');
    expect(ask).toMatchObject({ outcome: 'confirm', visibility: 'ephemeral', hint: 'cluster disable api --reason "bad deploy" --yes' });
    expect((await app.engine.state()).clusters.api!.enabled).toBe(true);
    const confirm = ask.buttons!.find((b) => b.label === 'Confirm')!;

    // Someone without the role clicking the button is refused, and nothing changes.
    const stranger = await app.pipeline.handleAction(confirm.actionId, { id: 'click-1', platform: 'console', user: { id: 'local:eve', displayName: 'eve' } });
    expect(stranger.outcome).toBe('denied');
    expect((await app.engine.state()).clusters.api!.enabled).toBe(true);

    const done = await app.pipeline.handleAction(confirm.actionId, { id: 'click-2', platform: 'console', user: { id: 'local:root-admin', displayName: 'root' } });
    expect(done).toMatchObject({ outcome: 'ok', visibility: 'channel', title: '🔴 Cluster api disabled' });
    expect((await app.engine.state()).clusters.api).toMatchObject({ enabled: false, change: { by: 'local:root-admin', reason: 'bad deploy' } });
  });

  it('cancels a confirmation for good, and lets each confirmation be used once and only for 15 minutes', async () => {
    const clock = manualClock();
    app = await createTestApp({ clock });
    const root = { platform: 'console' as const, user: { id: 'local:root-admin', displayName: 'root' } };
    const click = (label: string, reply: Awaited<ReturnType<TestApp['run']>>, id: string, user = root.user) =>
      app.pipeline.handleAction(reply.buttons!.find((b) => b.label === label)!.actionId, { ...root, user, id });

    const first = await app.run('cluster disable api --reason "bad deploy"');
    expect(await click('Cancel', first, 'k1', { id: 'local:eve', displayName: 'eve' })).toMatchObject({ outcome: 'denied', text: 'Only local:root-admin can cancel this.' });
    expect(await click('Cancel', first, 'k2')).toMatchObject({ outcome: 'ok', title: 'Cancelled' });
    expect(await click('Confirm', first, 'k3')).toMatchObject({ outcome: 'invalid', title: 'Already answered' });
    expect((await app.engine.state()).clusters.api!.enabled).toBe(true);

    const second = await app.run('cluster disable api --reason "bad deploy"');
    expect(await click('Confirm', second, 'k4')).toMatchObject({ outcome: 'ok', title: '🔴 Cluster api disabled' });
    expect(await click('Confirm', second, 'k5')).toMatchObject({ outcome: 'invalid', title: 'Already answered' });

    const third = await app.run('breaker trip web');
    clock.advance(16 * 60_000);
    expect(await click('Confirm', third, 'k6')).toMatchObject({ outcome: 'invalid', title: 'That button has expired' });
    expect((await app.engine.state()).clusters.web!.breaker.state).toBe('closed');

    const audited = await app.store.searchAudit({ command: 'button', limit: 10 });
    expect(audited.map((r) => [r.outcome, r.error ?? ''])).toEqual([
      ['invalid', 'That button has expired'],
      ['invalid', 'Already answered'],
      ['invalid', 'Already answered'],
      ['ok', ''],
      ['denied', 'Only local:root-admin can cancel this.'],
    ]);
  });

  it('runs a confirmation once when Confirm is clicked twice at once or races Cancel', async () => {
    app = await createTestApp();
    const root = { platform: 'console' as const, user: { id: 'local:root-admin', displayName: 'root' } };
    const prompt = await app.run('cluster disable api --reason "double click"');
    const [confirm, cancel] = prompt.buttons!;
    const clicks = await Promise.all([
      app.pipeline.handleAction(confirm!.actionId, { ...root, id: 'c1' }),
      app.pipeline.handleAction(confirm!.actionId, { ...root, id: 'c2' }),
      app.pipeline.handleAction(cancel!.actionId, { ...root, id: 'c3' }),
    ]);
    expect(clicks.map((c) => c.title).sort()).toEqual(['Already answered', 'Already answered', '🔴 Cluster api disabled']);
    expect(await app.store.events({ scope: 'api' })).toHaveLength(1);
  });

  it('keeps a confirmation usable when the first click came from someone without the role', async () => {
    app = await createTestApp();
    const prompt = await app.run('cluster disable api --reason "bad deploy"');
    const confirm = prompt.buttons!.find((b) => b.label === 'Confirm')!;
    const eve = await app.pipeline.handleAction(confirm.actionId, { id: 'e1', platform: 'console', user: { id: 'local:eve', displayName: 'eve' } });
    expect(eve.outcome).toBe('denied');
    const root = await app.pipeline.handleAction(confirm.actionId, { id: 'r1', platform: 'console', user: { id: 'local:root-admin', displayName: 'root' } });
    expect(root.outcome).toBe('ok');
  });

  it('finds no cluster behind names that are JavaScript object keys', async () => {
    app = await createTestApp();
    for (const text of ['status constructor', 'breaker trip valueof --yes', 'history constructor', 'role grant bob viewer --cluster hasownproperty']) {
      expect(await app.run(text)).toMatchObject({ outcome: 'invalid', title: 'Not found' });
    }
    expect(await app.run('status __proto__')).toMatchObject({ outcome: 'invalid', text: expect.stringContaining('lower-case letters, digits and dashes') });
    expect(await app.run('role grant constructor:x viewer')).toMatchObject({ outcome: 'invalid', text: expect.stringContaining('names no known platform') });
  });

  it('shows every cluster in status with kill-switch, breaker and limits', async () => {
    app = await createTestApp();
    await app.run('killswitch on --reason "payments corrupt" --yes');
    await app.run('ratelimit set db --per-minute 50');
    const status = await app.run('status');
    expect(status.severity).toBe('critical');
    expect(status.text).toContain('Global kill-switch is ON');
    expect(status.text).toContain('payments corrupt');
    expect(status.table!.rows).toContainEqual(['db', '⛔ refused (kill-switch; cluster itself enabled)', '🟢 closed', '50/min · 1,000/h · 10,000/day']);
  });

  it('applies many concurrent changes from different users, each exactly once', async () => {
    app = await createTestApp();
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => app.run(`ratelimit set db --per-minute ${i + 1}`, { as: 'local:root-admin', id: `c-${i}` })),
    );
    expect(replies.map((r) => r.outcome)).toEqual(Array(60).fill('ok'));
    const events = await app.store.events({ scope: 'db' });
    expect(events.map((e) => e.event)).toHaveLength(60);
    expect((await app.engine.state()).clusters.db!.rateLimits.perMinute).toBe(60);
    expect(await app.store.verifyAudit()).toEqual({ ok: true, count: 60 });
  });

  it('keeps two replicas on one database consistent when both change state at once', async () => {
    app = await createTestApp();
    const other = await createTestApp({ dir: app.dir });
    try {
      const run = (a: TestApp, i: number) => a.run(`ratelimit set ${i % 2 ? 'api' : 'web'} --per-minute ${i + 1}`, { id: `r-${i}` });
      const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => run(i % 2 ? app : other, i)));
      expect(replies.filter((r) => r.outcome !== 'ok').map((r) => r.title)).toEqual([]);
      const events = await app.store.events({});
      expect(events).toHaveLength(40);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      // The stored projection is exactly what replaying every event gives.
      const stored = await app.engine.state();
      const replayed = (await app.engine.stateAt(new Date(Date.now() + 60_000))).state;
      expect(stored.clusters).toEqual(replayed.clusters);
      expect(stored.seq).toBe(40);
      expect(await app.store.verifyAudit()).toEqual({ ok: true, count: 40 });
      // The replicas did get in each other's way (otherwise this test would prove nothing).
      expect(`${app.logs.text()}${other.logs.text()}`).toContain('deciding again');
    } finally {
      await other.close();
    }
  });

  it('never lets a command decided on a state that did not land commit, even when another replica fills its sequence number', async () => {
    app = await createTestApp();
    const other = await createTestApp({ dir: app.dir });
    try {
      for (let round = 0; round < 5; round++) {
        const mallory = `local:mallory${round}`;
        await Promise.all([
          other.run(`killswitch ${round % 2 ? 'off' : 'on'} --reason "other replica" --yes`, { id: `k${round}` }),
          app.run(`role grant ${mallory} operator`, { id: `g${round}` }),
          app.run(`cluster disable api --reason "round ${round}" --yes`, { as: mallory, id: `d${round}` }),
          app.run('cluster enable api', { id: `e${round}` }),
        ]);
      }
      const events = await app.store.events({});
      const stored = (await app.store.readState())!;
      const replayed = (await app.engine.stateAt(new Date(Date.now() + 60_000))).state;
      expect({ ks: stored.killSwitch.on, grants: stored.grants.map((g) => g.subject), api: stored.clusters.api!.enabled }).toEqual({
        ks: replayed.killSwitch.on,
        grants: replayed.grants.map((g) => g.subject),
        api: replayed.clusters.api!.enabled,
      });
      // Down to who changed what and when.
      expect(stored.killSwitch).toEqual(replayed.killSwitch);
      expect(stored.clusters.api).toEqual(replayed.clusters.api);
      // Whatever a mallory did was preceded by the grant that allowed it.
      for (const e of events.filter((x) => x.actor.startsWith('local:mallory'))) {
        const granted = events.find((g) => g.event.type === 'role.granted' && g.event.subject === e.actor);
        expect(granted && granted.seq < e.seq, `${e.actor} acted at seq ${e.seq} without a landed grant`).toBe(true);
      }
    } finally {
      await other.close();
    }
  });

  it('reports no-ops without recording a change', async () => {
    app = await createTestApp();
    const reply = await app.run('cluster enable api');
    expect(reply.title).toBe('api was already enabled');
    expect(await app.store.events({})).toHaveLength(0);
  });

  it('rejects unknown clusters and inconsistent limits without changing anything', async () => {
    app = await createTestApp();
    const unknown = await app.run('ratelimit set nope --per-minute 5');
    expect(unknown).toMatchObject({ outcome: 'invalid', title: 'Not found' });
    expect(unknown.hint).toContain('Known clusters: api, db, web');
    const shrink = await app.run('ratelimit set api --per-hour 100');
    expect(shrink.outcome).toBe('invalid');
    expect(shrink.text).toContain('per-minute 600 ≤ per-hour 100');
    expect(await app.store.events({})).toHaveLength(0);
  });

  it('moves a tripped breaker to half-open after its cool-down, and closes it on reset', async () => {
    const clock = manualClock();
    app = await createTestApp({ clock });
    await app.run('breaker trip web --reason "timeouts" --yes');
    expect((await app.run('breaker show web')).table!.rows[0]![1]).toBe('🔴 open');
    clock.advance(2 * 60_000);
    expect((await app.run('breaker show web')).table!.rows[0]![1]).toBe('🟡 half-open');
    await app.run('breaker reset web');
    expect((await app.run('breaker show web')).table!.rows[0]![1]).toBe('🟢 closed');
  });

  it('answers with a trace id and no internals when a handler fails unexpectedly', async () => {
    app = await createTestApp();
    await app.store.close(); // the database is gone: every store call now throws
    const reply = await app.run('status');
    expect(reply.outcome).toBe('failed');
    expect(reply.text).toContain(`ref ${reply.traceId}`);
    expect(reply.text).not.toMatch(/at .*\.ts:\d+/);
    expect(app.logs.text()).toContain(reply.traceId);
  });
});
