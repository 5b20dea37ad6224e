import { afterEach, describe, expect, it } from 'vitest';
import { oneCheckApp } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const setup = (checkExtra = '') => oneCheckApp(cleanups, checkExtra);

describe('silences: an upper bound, and no duplicates', () => {
  it('refuses a silence longer than 7 days, naming the limit', async () => {
    const h = await setup();
    const reply = await h.app.run('silence api --for 9999d --reason "forever"');
    expect(reply.outcome).toBe('invalid');
    expect(reply.text).toContain('--for 9999d is longer than the 7d a silence may last');
    expect(await h.app.health!.health.silences({})).toHaveLength(0);
    expect((await h.app.run('silence api --for 7d --reason "a week"')).outcome).toBe('ok');
  });

  it('merges a second silence on the same target into the first and says so', async () => {
    const h = await setup();
    const first = await h.app.run('silence api --for 1h --reason "deploy"');
    expect(first.title).toContain('api silenced until 2026-11-21 04:00:00 UTC');
    const covered = await h.app.run('silence api --for 30m --reason "again"');
    expect(covered.title).toBe('api is already silenced until 2026-11-21 04:00:00 UTC');
    expect(covered.text).toContain('nothing changed');
    const extended = await h.app.run('silence api --for 2h --reason "longer"');
    expect(extended.title).toMatch(/^🔕 Silence \w+ on api extended until 2026-11-21 05:00:00 UTC$/);
    expect(extended.text).toContain('merged into that silence');
    const active = await h.app.health!.health.silences({ activeAt: h.clock.now().toISOString() });
    expect(active).toHaveLength(1);
    expect(active[0]!.endsAt).toBe('2026-11-21T05:00:00.000Z');
  });

  it('extends an open maintenance window instead of opening a second one', async () => {
    const h = await setup();
    expect((await h.app.run('maintenance start api --for 1h')).outcome).toBe('ok');
    const again = await h.app.run('maintenance start api --for 1h');
    expect(again.title).toBe('Maintenance on api is already open until 2026-11-21 04:00:00 UTC');
    const longer = await h.app.run('maintenance start api --for 3h');
    expect(longer.title).toBe('🛠️ Maintenance on api extended until 2026-11-21 06:00:00 UTC');
    expect(await h.app.health!.health.silences({ activeAt: h.clock.now().toISOString(), kind: 'maintenance' })).toHaveLength(1);
    expect((await h.app.run('maintenance start api --for 30d')).text).toContain('longer than the 7d a maintenance window may last');
  });

  it('refuses a second `incident mitigate` instead of writing a second timeline entry', async () => {
    const h = await setup();
    await h.app.run('incident declare "Checkout errors" --sev 2 --cluster api');
    h.clock.advance(5_000);
    expect((await h.app.run('incident mitigate 1')).outcome).toBe('ok');
    const again = await h.app.run('incident mitigate 1');
    expect(again.outcome).toBe('invalid');
    expect(again.text).toContain('INC-1 is already mitigated (since 2026-11-21 03:00:05 UTC)');
    const timeline = await h.app.run('incident timeline 1');
    expect(timeline.table!.rows.filter((r) => r[2] === 'status → mitigated')).toHaveLength(1);
    // Times to the second, with the zone.
    expect(timeline.table!.rows.map((r) => r[0])).toEqual(['2026-11-21 03:00:00 UTC', '2026-11-21 03:00:05 UTC']);
    const show = await h.app.run('incident show 1');
    expect(show.fields).toContainEqual({ name: 'Mitigated', value: '2026-11-21 03:00:05 UTC' });
  });
});

describe('alerts in words', () => {
  it('a resolved alert says what happened, not "✅ … is DOWN"', async () => {
    const h = await setup();
    h.svc.break();
    await h.round(3);
    const [post] = h.sink.posts();
    h.svc.heal();
    await h.round(2);
    const update = h.sink.updates(post!.messageId).at(-1)!;
    expect(update.reply.text).toMatch(/^✅ api-http was DOWN for 20s, now UP again · alert \w+$/);
    expect(update.reply.text).not.toContain('is DOWN');
  });

  it('resolving by hand while the check is still DOWN warns and says what happens next', async () => {
    const h = await setup();
    h.svc.break();
    await h.round(3);
    const [alert] = await h.app.health!.health.alerts({ status: 'firing' });
    const reply = await h.app.run(`alert resolve ${alert!.id}`);
    expect(reply.outcome).toBe('ok');
    expect(reply.severity).toBe('warning');
    expect(reply.text).toContain('api-http is still DOWN: no new alert fires for it until the check recovers and fails again');
    await h.app.health!.deliverer.drain(); // the message is updated once the command's commit landed
    const update = h.sink.updates().at(-1)!;
    expect(update.reply.text).toContain('the alert was closed by hand by local:root-admin');
  });

  it('a silence ending while the check is still DOWN opens the incident the check asks for', async () => {
    const h = await setup('incident: { sev: 2 }');
    await h.app.run('silence api --for 1h --reason "deploying"');
    h.svc.break();
    await h.round(3);
    expect(await h.app.health!.incidents.list({ open: true })).toHaveLength(0);
    h.clock.advance(3_600_000);
    await h.round();
    const open = await h.app.health!.incidents.list({ open: true });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ cluster: 'api', sev: 2 });
  });
});
