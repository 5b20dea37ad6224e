import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, manualClock, type TestApp } from '../helpers/test-app.js';
import { firingAudits, posts } from './schedule-helpers.js';

let apps: TestApp[] = [];
let dir: string | undefined;
afterEach(async () => {
  for (const a of apps) await a.cleanup();
  apps = [];
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (dir) rmSync(`${dir}-keys`, { recursive: true, force: true });
});

describe('exactly once with several processes on one store', () => {
  it('two app instances on separate connections to one SQLite file run each fire time once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'infrabot-once-'));
    const clock = manualClock('2026-11-21T01:00:00.000Z');
    const a = await createTestApp({ clock, dir });
    const b = await createTestApp({ clock, dir });
    apps.push(a, b);
    expect(a.db).not.toBe(b.db);
    const n = 12;
    for (let i = 0; i < n; i++) await a.run(`schedule add "every 1m" "ratelimit set api --per-minute ${100 + i}"`);
    await a.run('cluster disable web --for 2m --reason drill', { confirmed: true });
    for (let minute = 1; minute <= 3; minute++) {
      clock.set(`2026-11-21T01:0${minute}:00.000Z`);
      // Both replicas look at the same due rows at the same moment.
      await Promise.all([a.schedules!.tick(), b.schedules!.tick(), a.schedules!.tick(), b.schedules!.tick()]);
    }
    const audits = firingAudits(a);
    const ids = audits.map((r) => r.invocation_id);
    expect(new Set(ids).size).toBe(ids.length); // no fire time twice
    expect(ids).toHaveLength(n * 3 + 1);
    expect(a.db!.prepare('SELECT COUNT(*) FROM schedule_firings').pluck().get()).toBe(n * 3 + 1);
    expect(posts(a)).toHaveLength(n * 3 + 1);
    const events = a.db!.prepare("SELECT COUNT(*) FROM events WHERE type = 'ratelimit.set'").pluck().get();
    expect(events).toBe(n * 3);
    expect(a.db!.prepare("SELECT COUNT(*) FROM events WHERE type = 'cluster.enabled' AND actor = 'system'").pluck().get()).toBe(1);
    // The replicas really did race for the same fire times: the losers were answered as duplicates.
    expect(a.logs.text() + b.logs.text()).toMatch(/duplicate delivery (answered with the earlier reply|dropped)/);
  });

  it('two bot processes on one SQLite file run each fire time once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'infrabot-once-'));
    const clock = manualClock('2026-11-21T01:00:30.000Z');
    const setup = await createTestApp({ clock, dir });
    for (let i = 0; i < 20; i++) await setup.run(`schedule add "every 1m" "ratelimit set api --per-minute ${100 + i}"`);
    await setup.close();
    const times = [1, 2, 3, 4].map((m) => `2026-11-21T01:0${m}:00.000Z`);
    const worker = () =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fire-worker.ts'), dir!, ...times], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += String(d)));
        child.stderr.on('data', (d: Buffer) => (err += String(d)));
        child.on('close', (code) => resolve({ code, out, err }));
      });
    const [one, two] = await Promise.all([worker(), worker()]);
    expect(one.code, one.err).toBe(0);
    expect(two.code, two.err).toBe(0);
    const check = await createTestApp({ clock, dir });
    apps.push(check);
    const ids = firingAudits(check).map((r) => r.invocation_id);
    expect(ids).toHaveLength(20 * 4);
    expect(new Set(ids).size).toBe(20 * 4);
    expect(check.db!.prepare('SELECT COUNT(*) FROM schedule_firings').pluck().get()).toBe(80);
    expect(posts(check)).toHaveLength(80);
    expect(check.db!.prepare("SELECT COUNT(*) FROM events WHERE type = 'ratelimit.set'").pluck().get()).toBe(80);
  }, 60_000);
});
