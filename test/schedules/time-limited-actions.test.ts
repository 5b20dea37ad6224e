import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, manualClock, type TestApp } from '../helpers/test-app.js';
import { firingAudits, posts } from './schedule-helpers.js';

const dirs: string[] = [];
let apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps) await a.cleanup();
  apps = [];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(clock: ReturnType<typeof manualClock>, dir: string) {
  const a = await createTestApp({ clock, dir });
  apps.push(a);
  return a;
}

function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'infrabot-revert-'));
  dirs.push(d);
  return d;
}

describe('time-limited actions revert automatically', () => {
  it('cluster disable --for 30m reverts after a restart, as system on behalf of the author, and status says when', async () => {
    const dir = tempDir();
    const clock = manualClock('2026-11-21T10:00:00.000Z');
    const first = await open(clock, dir);
    await first.run('role grant local:alice operator --cluster api');
    const r = await first.run('cluster disable api --for 30m --reason "failover drill"', { as: 'local:alice', confirmed: true });
    expect(r.outcome).toBe('ok');
    expect(r.text).toContain('api is enabled again automatically at Sat 2026-11-21 10:30 UTC (in 30m');
    const status = await first.run('status');
    expect(status.fields?.find((f) => f.name === 'Reverts automatically')?.value).toContain('`cluster enable api` at 2026-11-21 10:30:00 UTC (in 30m; set by alice');
    // --json carries it too: what, when, by whom, and the revert id.
    expect((status.data as { reverts: unknown[] }).reverts).toEqual([
      { id: expect.stringMatching(/^\w{8}$/), command: 'cluster enable api', at: '2026-11-21T10:30:00.000Z', setBy: 'local:alice', setByName: 'alice', supersededBy: null },
    ]);
    expect((await first.run('status api')).data).toMatchObject({ reverts: [{ command: 'cluster enable api' }] });
    await first.close();
    apps = [];

    clock.set('2026-11-21T10:31:00.000Z');
    const second = await open(clock, dir); // a new process on the same store
    expect(await second.schedules!.tick()).toBe(1);
    const state = await second.engine.state();
    expect(state.clusters.api!.enabled).toBe(true);
    expect(state.clusters.api!.change?.by).toBe('system');
    expect(state.clusters.api!.change?.reason).toBe('automatic revert (--for 30m, set by local:alice)');
    expect(firingAudits(second)).toEqual([expect.objectContaining({ user_id: 'system', outcome: 'ok', raw_text: expect.stringMatching(/^cluster enable api/) })]);
    const userName = second.db!.prepare("SELECT user_name FROM audit WHERE platform = 'schedule'").pluck().get();
    expect(userName).toBe('system on behalf of local:alice');
    expect(posts(second)[0]!.body.title).toContain('Automatic revert');
    expect((await second.run('status')).fields ?? []).toEqual([]);
    expect(await second.schedules!.tick()).toBe(0); // once
  });

  it('killswitch on --for 1h and ratelimit set --until 18:00 restore what was there before', async () => {
    const clock = manualClock('2026-11-21T10:00:00.000Z');
    const a = await open(clock, tempDir());
    expect((await a.run('killswitch on --for 1h --reason migration', { confirmed: true })).outcome).toBe('ok');
    const limits = await a.run('ratelimit set api --per-minute 5000 --per-hour 100000 --until 18:00');
    expect(limits.text).toContain('go back to');
    expect(limits.text).toContain('18:00 UTC (in 8h');
    clock.set('2026-11-21T11:00:00.000Z');
    await a.schedules!.tick();
    expect((await a.engine.state()).killSwitch.on).toBe(false);
    expect((await a.engine.state()).clusters.api!.rateLimits.perMinute).toBe(5000);
    clock.set('2026-11-21T18:00:02.000Z');
    await a.schedules!.tick();
    expect((await a.engine.state()).clusters.api!.rateLimits).toEqual({ perMinute: 600, perHour: 20000, perDay: 300000 });
  });

  it('leaves a change alone that someone made by hand since, and says so', async () => {
    const clock = manualClock('2026-11-21T10:00:00.000Z');
    const a = await open(clock, tempDir());
    await a.run('cluster disable web --for 30m --reason drill', { confirmed: true });
    clock.advance(60_000);
    await a.run('cluster enable web --reason "drill over early"');
    clock.advance(5 * 60_000);
    await a.run('cluster disable web --reason "real problem now"', { confirmed: true });
    // status agrees with the runner: this revert will be skipped, so it is not listed as pending.
    const status = await a.run('status');
    expect(status.fields?.find((f) => f.name === 'Reverts automatically')).toBeUndefined();
    expect(status.fields?.find((f) => f.name === 'Superseded reverts')?.value).toContain('`cluster enable web` at 2026-11-21 10:30:00 UTC: will be skipped, local:root-admin changed it since');
    expect((status.data as { reverts: unknown[] }).reverts).toEqual([
      expect.objectContaining({ command: 'cluster enable web', at: '2026-11-21T10:30:00.000Z', supersededBy: { by: 'local:root-admin', at: '2026-11-21T10:01:00.000Z' } }),
    ]);
    clock.set('2026-11-21T10:31:00.000Z');
    await a.schedules!.tick();
    expect((await a.engine.state()).clusters.web!.enabled).toBe(false);
    const post = posts(a)[0]!;
    expect(post.body.title).toMatch(/^⏲️ Revert \w+ not run$/);
    expect(post.body.text).toContain('changed it since (enabled cluster web: drill over early');
  });

  it('refuses bad --for/--until values and changes nothing', async () => {
    const a = await open(manualClock('2026-11-21T10:00:00.000Z'), tempDir());
    for (const [cmd, message] of [
      ['killswitch on --for soon --reason x1x', '--for takes a duration such as 30m, 1h or 2h30m, not "soon"'],
      ['killswitch on --until 25:00 --reason x1x', '--until takes a time of day such as 18:00 (in UTC)'],
      ['killswitch on --until 2026-11-20T10:00Z --reason x1x', 'is in the past'],
      ['killswitch on --for 60d --reason x1x', 'at most 30d'],
      ['killswitch on --for 1h --until 18:00 --reason x1x', 'not both'],
    ] as const) {
      const r = await a.run(cmd, { confirmed: true });
      expect(r.outcome, cmd).toBe('invalid');
      expect(r.text, cmd).toContain(message);
    }
    expect((await a.engine.state()).killSwitch.on).toBe(false);
    expect((await a.run('schedule list')).title).toBe('No schedules');
  });

  it('a revert is cancelled with schedule remove', async () => {
    const clock = manualClock('2026-11-21T10:00:00.000Z');
    const a = await open(clock, tempDir());
    const r = await a.run('killswitch on --for 1h --reason migration', { confirmed: true });
    const id = /revert (\w+)/.exec(r.text ?? '')![1]!;
    expect((await a.run(`schedule remove ${id}`)).title).toBe(`Revert ${id} cancelled`);
    clock.set('2026-11-21T11:05:00.000Z');
    expect(await a.schedules!.tick()).toBe(0);
    expect((await a.engine.state()).killSwitch.on).toBe(true);
  });
});

describe('the running bot', () => {
  it('reverts on its own at the time, with real timers (no tick by hand)', async () => {
    const a = await createTestApp({ dir: tempDir() });
    apps.push(a);
    const r = await a.run('killswitch on --for 1s --reason "short drill"', { confirmed: true });
    expect(r.text).toContain('turns off automatically');
    a.health!.start();
    a.schedules!.start();
    const deadline = Date.now() + 8000;
    while ((await a.engine.state()).killSwitch.on && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect((await a.engine.state()).killSwitch).toMatchObject({ on: false, change: { by: 'system' } });
  });
});
