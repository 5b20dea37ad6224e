import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, manualClock, type TestApp } from '../helpers/test-app.js';
import { createSqlScheduleStore } from '../../src/store/sql-schedule-store.js';
import { firingAudits, posts, scheduleId } from './schedule-helpers.js';
import { renderText } from '../../src/chat/console/render-text.js';

let apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps) await a.cleanup();
  apps = [];
});

async function app(clock = manualClock('2026-11-21T01:00:00.000Z'), dir?: string) {
  const a = await createTestApp({ clock, ...(dir ? { dir } : {}) });
  apps.push(a);
  return a;
}

describe('scheduled commands fire through the pipeline', () => {
  it('runs the command as its author at the fire time, audits it with the schedule id and posts the result', async () => {
    const clock = manualClock('2026-11-21T01:00:00.000Z');
    const a = await app(clock);
    await a.run('role grant local:alice operator --cluster api');
    const added = await a.run('schedule add "daily 02:00" "ratelimit set api --per-minute 300" --name nightly --channel slack:C0OPS', { as: 'local:alice' });
    expect(added.outcome).toBe('ok');
    const id = scheduleId(added);
    expect(await a.schedules!.tick()).toBe(0); // not yet
    clock.set('2026-11-21T02:00:01.000Z');
    expect(await a.schedules!.tick()).toBe(1);
    const state = await a.engine.state();
    expect(state.clusters.api!.rateLimits.perMinute).toBe(300);
    const audits = firingAudits(a);
    expect(audits).toEqual([expect.objectContaining({ user_id: 'local:alice', invocation_id: `${id}@2026-11-21T02:00:00.000Z`, outcome: 'ok', raw_text: 'ratelimit set api --per-minute 300' })]);
    const [post] = posts(a);
    expect(post).toMatchObject({ platform: 'slack', channel: 'C0OPS' });
    expect(post!.body.title).toContain('"nightly"');
    expect(post!.body.title).toContain('Rate limits of api changed');
    // The same fire time never runs again; the next one is tomorrow.
    expect(await a.schedules!.tick()).toBe(0);
    const shown = await a.run(`schedule show ${id}`);
    expect(shown.fields!.find((f) => f.name.startsWith('Next'))!.value).toContain('2026-11-22 02:00');
    expect(shown.fields!.find((f) => f.name === 'Recent runs')!.value).toContain(': ok');
    // On the console: every fire time lines up under the first, and the command is labelled, not loose text.
    const lines = renderText(shown).split('\n');
    const next = lines.findIndex((l) => l.trimStart().startsWith('Next 5 fire times'));
    const column = lines[next]!.indexOf('2026-11-22');
    expect(column).toBeGreaterThan(0);
    expect(lines.slice(next + 1, next + 5).map((l) => l.indexOf('2026-11-2'))).toEqual([column, column, column, column]);
    expect(lines.find((l) => l.includes('`ratelimit set api --per-minute 300`'))).toMatch(/^ {2}Command +`ratelimit set/);
    expect(lines.filter((l) => /^\S/.test(l)).map((l) => l.slice(0, 4))).toEqual([lines[0]!.slice(0, 4), 'ref ']);
    expect((await a.run('schedule list')).title).toBe('1 schedule');
  });

  it('stops the schedule of an author whose role was revoked and tells the channel why', async () => {
    const clock = manualClock('2026-11-21T01:00:00.000Z');
    const a = await app(clock);
    await a.run('role grant local:alice operator --cluster api');
    const id = scheduleId(await a.run('schedule add "every 15m" "cluster enable api"', { as: 'local:alice' }));
    await a.run('role revoke local:alice operator --cluster api');
    clock.set('2026-11-21T01:15:00.000Z');
    await a.schedules!.tick();
    expect(firingAudits(a)).toEqual([expect.objectContaining({ user_id: 'local:alice', outcome: 'denied' })]);
    const [post] = posts(a);
    expect(post!.body.title).toBe(`⛔ Schedule ${id} stopped`);
    expect(post!.body.text).toContain('may no longer do that');
    const shown = await a.run(`schedule show ${id}`);
    expect(shown.title).toContain('stopped');
    // Stopped: later fire times do not run (or post) again.
    clock.set('2026-11-21T01:30:00.000Z');
    expect(await a.schedules!.tick()).toBe(0);
    expect(posts(a)).toHaveLength(1);
  });

  it('refuses a scheduled command that does not parse or names an unknown cluster, at once', async () => {
    const a = await app();
    expect((await a.run('schedule add "daily 02:00" "cluster disable nope --reason x1x"', { confirmed: true })).text).toContain('No cluster named "nope"');
    expect((await a.run('schedule add "daily 02:00" "ratelimit set api --per-minute lots"')).text).toContain('--per-minute');
    expect((await a.run('schedule add "daily 02:00" "schedule list"')).text).toBe('A schedule cannot run `schedule` commands.');
    expect((await a.run('schedule list')).title).toBe('No schedules');
  });

  it('refuses to schedule what the author may not run', async () => {
    const a = await app();
    await a.run('role grant local:bob viewer');
    const r = await a.run('schedule add "daily 02:00" "killswitch on --reason nightly"', { as: 'local:bob', confirmed: true });
    expect(r.outcome).toBe('invalid');
    expect(r.text).toContain('You may not schedule');
    expect(r.text).toContain('admin');
  });

  it('asks to confirm a schedule of a dangerous command once, then runs it unasked', async () => {
    const clock = manualClock('2026-11-21T01:00:00.000Z');
    const a = await app(clock);
    const ask = await a.run('schedule add "daily 02:00" "killswitch on --reason migration"');
    expect(ask.outcome).toBe('confirm');
    expect((await a.run('schedule add "daily 02:00" "killswitch on --reason migration"', { confirmed: true })).outcome).toBe('ok');
    clock.set('2026-11-21T02:00:30.000Z');
    await a.schedules!.tick();
    expect((await a.engine.state()).killSwitch.on).toBe(true);
  });

  it('misfire: runs a fire time missed by less than the grace period once, skips an older one and says so', async () => {
    const clock = manualClock('2026-11-21T01:00:00.000Z');
    const a = await app(clock);
    const id = scheduleId(await a.run('schedule add "daily 02:00" "cluster disable web --reason nightly" --channel ops', { confirmed: true }));
    clock.set('2026-11-21T02:09:00.000Z'); // down at 02:00, back 9 minutes later: within the 10 minute grace
    expect(await a.schedules!.tick()).toBe(1);
    expect((await a.engine.state()).clusters.web!.enabled).toBe(false);
    await a.run('cluster enable web');
    clock.set('2026-11-22T02:30:00.000Z'); // 30 minutes late: skipped
    expect(await a.schedules!.tick()).toBe(1);
    expect((await a.engine.state()).clusters.web!.enabled).toBe(true);
    const skipped = posts(a).at(-1)!;
    expect(skipped.channel).toBe('ops');
    expect(skipped.body.title).toContain(`Schedule ${id} skipped`);
    expect(skipped.body.text).toContain('30m late, more than the 10m grace period');
    expect(firingAudits(a).at(-1)).toMatchObject({ outcome: 'failed', error: expect.stringContaining('skipped') });
    // The next fire time is the following day, not the missed one.
    expect((await a.run(`schedule show ${id}`)).fields!.find((f) => f.name.startsWith('Next'))!.value).toMatch(/^Mon 2026-11-23 02:00/);
  });

  it('pause, resume and remove: only the author or an admin may, and a paused schedule does not run', async () => {
    const clock = manualClock('2026-11-21T01:00:00.000Z');
    const a = await app(clock);
    await a.run('role grant local:alice operator');
    await a.run('role grant local:carol operator');
    const id = scheduleId(await a.run('schedule add "every 15m" "status"', { as: 'local:alice' }));
    expect((await a.run(`schedule pause ${id}`, { as: 'local:carol' })).text).toContain('only they or an admin');
    expect((await a.run(`schedule pause ${id}`, { as: 'local:alice' })).outcome).toBe('ok');
    clock.set('2026-11-21T01:16:00.000Z');
    expect(await a.schedules!.tick()).toBe(0);
    const resumed = await a.run(`schedule resume ${id}`);
    expect(resumed.text).toContain('01:30');
    clock.set('2026-11-21T01:30:00.000Z');
    expect(await a.schedules!.tick()).toBe(1);
    expect((await a.run(`schedule remove ${id}`, { as: 'local:alice' })).outcome).toBe('ok');
    expect((await a.run('schedule list')).title).toBe('No schedules');
  });
});

describe('many schedules', () => {
  it('one person may have at most 100 schedules', async () => {
    const a = await app();
    await a.run('role grant local:alice operator');
    for (let i = 0; i < 100; i++) expect((await a.run(`schedule add "every 5m" "status" --name s${i}`, { as: 'local:alice' })).outcome).toBe('ok');
    const refused = await a.run('schedule add "every 5m" "status"', { as: 'local:alice' });
    expect(refused.text).toBe('You have 100 schedules, the most one person may have; nothing was added.');
    expect((await a.run('schedule add "every 5m" "status"')).outcome).toBe('ok'); // someone else still may
  });

  it('fires every schedule due at the same minute in one round, not 50 now and the rest later', async () => {
    const clock = manualClock('2026-11-21T01:00:30.000Z');
    const a = await app(clock);
    for (let i = 0; i < 70; i++) await a.run(`schedule add "every 1m" "ratelimit show api" --name s${i}`);
    clock.set('2026-11-21T01:01:00.000Z');
    expect(await a.schedules!.tick()).toBe(70);
    expect(new Set(firingAudits(a).map((r) => r.invocation_id)).size).toBe(70);
  });
});

describe('daylight saving time at fire time', () => {
  it('Europe/Berlin 02:30: once at 03:00 on the spring-forward day, once on the fall-back day', async () => {
    const clock = manualClock('2026-03-28T12:00:00.000Z');
    const a = await app(clock);
    await a.run('schedule add "30 2 * * *" "status" --tz Europe/Berlin');
    for (const [at, fired] of [
      ['2026-03-29T00:59:00.000Z', 0],
      ['2026-03-29T01:00:05.000Z', 1], // 03:00 CEST: the skipped 02:30 runs once
      ['2026-03-29T01:30:00.000Z', 0],
      ['2026-10-25T00:30:05.000Z', 1], // 02:30 CEST, the first of the two 02:30s
      ['2026-10-25T01:30:05.000Z', 0], // 02:30 CET, the repeated hour: not again
      ['2026-10-26T01:30:05.000Z', 1], // 02:30 CET the next day
    ] as const) {
      clock.set(at);
      expect(await a.schedules!.tick(), at).toBe(fired);
    }
    // Between March and October the bot "was down": only the latest fire time (5 s late) ran, once.
    expect(firingAudits(a).map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok']);
  });
});

describe('retention', () => {
  it('forgets firings and finished reverts past the retention, and a pruned fire time still never runs again', async () => {
    const clock = manualClock('2026-11-21T01:00:30.000Z');
    const a = await app(clock);
    await a.run('schedule add "daily 01:01" "status"');
    await a.run('killswitch on --for 30s --reason drill', { confirmed: true });
    clock.set('2026-11-21T01:01:00.000Z');
    expect(await a.schedules!.tick()).toBe(2);
    const count = () => a.db!.prepare("SELECT (SELECT COUNT(*) FROM schedule_firings) || '/' || (SELECT COUNT(*) FROM schedules)").pluck().get();
    expect(count()).toBe('2/2');
    const store = createSqlScheduleStore(a.store.db);
    expect(await store.prune('2026-11-21T01:00:00.000Z')).toBe(0);
    expect(await store.prune('2026-11-21T02:00:00.000Z')).toBe(3); // two firings and the finished revert
    expect(count()).toBe('0/1');
    expect(await a.schedules!.tick()).toBe(0);
    clock.set('2026-11-22T01:01:00.000Z');
    expect(await a.schedules!.tick()).toBe(1);
  });
});
