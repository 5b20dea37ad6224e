import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../helpers/test-app.js';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(opts: { extra?: string; clusterExtra?: string; start?: string } = {}) {
  const svc = await fakeService();
  const config = BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)], opts.clusterExtra ?? ''), opts.extra ?? '');
  const h = await healthApp(config, { clock: manualClock(opts.start) });
  cleanups.push(async () => {
    await h.app.cleanup();
    await svc.close();
  });
  return { ...h, svc };
}

describe('silences and maintenance', () => {
  it('holds back notifications during a silence, records them, and notifies when the silence ends', async () => {
    const h = await setup();
    const s = await h.app.run('silence api --for 2h --reason "known flaky upstream"');
    expect(s.outcome).toBe('ok');
    h.svc.break();
    await h.round(5);
    expect(h.sink.calls).toHaveLength(0);
    const list = await h.app.run('alert list');
    expect(list.table!.rows[0]![6]).toMatch(/^held: silence .* \(known flaky upstream\)/);
    const events = await h.app.health!.health.alertEvents({ cluster: 'api' });
    expect(events.map((e) => e.type)).toEqual(['fired', 'held']);

    expect((await h.app.run('silence end api')).outcome).toBe('ok');
    await h.round();
    expect(h.sink.posts()).toHaveLength(1);
    expect(h.sink.posts()[0]!.reply.title).toContain('api-http is DOWN');
  });

  it('an alert that fires and resolves inside a maintenance window is recorded but never shown', async () => {
    const h = await setup();
    expect((await h.app.run('maintenance start api --for 30m --reason "db upgrade"')).outcome).toBe('ok');
    h.svc.break();
    await h.round(3);
    h.svc.heal();
    await h.round(2);
    expect(h.sink.calls).toHaveLength(0);
    const resolved = await h.app.health!.health.alerts({ status: 'resolved' });
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.heldBy).toContain('maintenance');
    const listed = await h.app.run('maintenance list api');
    expect(listed.table!.rows[0]!.slice(0, 2)).toEqual(['api', 'open now']);
    // The window closing releases nothing: the alert is already resolved.
    expect((await h.app.run('maintenance end api')).outcome).toBe('ok');
    await h.round();
    expect(h.sink.calls).toHaveLength(0);
  });

  it('honours a recurring window in its own time zone across the UTC date boundary', async () => {
    // Saturdays 23:00–01:00 New York time = Sunday 04:00–06:00 UTC in November (EST).
    const maintenance = `    maintenance:\n      - { name: nightly batch, days: [sat], start: "23:00", duration: 2h, timezone: America/New_York }\n`;
    const h = await setup({ clusterExtra: maintenance, start: '2026-11-22T04:10:00.000Z' });
    h.svc.break();
    await h.round(3); // 04:40Z Sunday UTC, 23:40 Saturday in New York: inside the window
    expect(h.sink.calls).toHaveLength(0);
    expect((await h.app.health!.health.alerts({ status: 'firing' }))[0]!.heldBy).toContain('nightly batch');
    h.clock.set('2026-11-22T06:00:30.000Z'); // window over at 06:00Z
    await h.app.health!.tick();
    expect(h.sink.posts()).toHaveLength(1);
  });

  it('does not mistake the window for UTC time', async () => {
    const maintenance = `    maintenance:\n      - { name: nightly batch, days: [sat], start: "23:00", duration: 2h, timezone: America/New_York }\n`;
    // Saturday 23:10 UTC is 18:10 in New York: outside the window.
    const h = await setup({ clusterExtra: maintenance, start: '2026-11-21T23:10:00.000Z' });
    h.svc.break();
    await h.round(3);
    expect(h.sink.posts()).toHaveLength(1);
  });
});

describe('reminders', () => {
  it('repeats in the thread while firing, up to the cap, and stops on acknowledge', async () => {
    const h = await setup({ extra: 'alerts: { reminder: { every: 5m, max: 2 } }' });
    h.svc.break();
    await h.round(3);
    const post = h.sink.posts()[0]!;
    const reminders = () => h.sink.threadReplies(post.messageId).filter((r) => r.reply.title.startsWith('⏰'));
    await h.round(29); // 4m50s later
    expect(reminders()).toHaveLength(0);
    await h.round(); // 5 min
    expect(reminders()).toHaveLength(1);
    expect(reminders()[0]!.reply.text).toContain('reminder 1 of 2');
    await h.round(30); // 10 min
    expect(reminders()).toHaveLength(2);
    await h.round(90); // 25 min: capped
    expect(reminders()).toHaveLength(2);
  });

  it('sends no reminders for an acknowledged alert', async () => {
    const h = await setup({ extra: 'alerts: { reminder: { every: 5m, max: 3 } }' });
    h.svc.break();
    await h.round(3);
    const firing = await h.app.health!.health.alerts({ status: 'firing' });
    expect((await h.app.run(`alert ack ${firing[0]!.id}`)).outcome).toBe('ok');
    await h.round(60);
    expect(h.sink.threadReplies().filter((r) => r.reply.title.startsWith('⏰'))).toHaveLength(0);
  });
});
