import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, manualClock, TEST_CONFIG, type TestApp } from './helpers/test-app.js';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.cleanup();
});

/** TEST_CONFIG with the api cluster's default per-minute limit (600) and db's (100) changed. */
const CHANGED = TEST_CONFIG.replace('perMinute: 600,', 'perMinute: 900,').replace('perMinute: 100,', 'perMinute: 200,');

describe('config changes as control events', () => {
  it('a changed default in the config reaches the stored state, is audited by actor config, and history agrees before and after', async () => {
    const clock = manualClock('2026-11-21T03:00:00.000Z');
    const first = await createTestApp({ clock });
    await first.run('cluster disable web --reason "bad deploy" --yes'); // stores a state with api at 600/min
    await first.run('ratelimit set db --per-minute 50'); // set by hand: the config's new default must not undo it
    await first.close();
    clock.set('2026-11-21T05:00:00.000Z');

    const app = await createTestApp({ clock, dir: first.dir, keyDir: first.keyDir, config: CHANGED });
    apps.push(app);
    const cleanupFirst = () => (rmSync(first.dir, { recursive: true, force: true }), rmSync(first.keyDir, { recursive: true, force: true }));
    try {
      // State, config and history agree on the new default.
      expect((await app.engine.state()).clusters.api?.rateLimits.perMinute).toBe(900);
      const status = await app.run('status');
      expect(status.table?.rows.find((r) => r[0] === 'api')?.join(' ')).toContain('900');
      const now = await app.run('history api --at 2026-11-21T05:00:00Z');
      expect((now.data as { cluster: { rateLimits: { perMinute: number } } }).cluster.rateLimits.perMinute).toBe(900);
      // Before the change, history shows what applied then, and the change itself, by the config file.
      const before = await app.run('history api --at 2026-11-21T04:00:00Z');
      expect((before.data as { cluster: { rateLimits: { perMinute: number } } }).cluster.rateLimits.perMinute).toBe(600);
      const changes = (before.data as { changes: { actor: string; type: string }[] }).changes;
      expect(changes).toEqual([expect.objectContaining({ actor: 'config', type: 'config.ratelimit' })]);
      expect(before.table?.rows.at(-1)?.join(' ')).toMatch(/config test\.yaml sha256:[0-9a-f]{12} changed the default rate limits of api: perMinute 600 → 900/);

      // The limit set by hand stands.
      expect((await app.engine.state()).clusters.db?.rateLimits.perMinute).toBe(50);

      // Audited like a command, and the chain and the replay check still pass.
      const [record] = await app.store.searchAudit({ userId: 'config', limit: 5 });
      expect(record).toMatchObject({ userId: 'config', platform: 'system', command: 'config', outcome: 'ok' });
      expect(record?.rawText).toMatch(/^config test\.yaml sha256:/);
      const verify = await app.run('audit verify');
      expect(verify.outcome).toBe('ok');

      // A second start with the same config records nothing more.
      const events = (await app.store.events({})).length;
      await app.close();
      const again = await createTestApp({ clock, dir: first.dir, keyDir: first.keyDir, config: CHANGED });
      apps.splice(0, 1, again);
      expect((await again.store.events({})).length).toBe(events);
    } finally {
      apps.push({ cleanup: async () => cleanupFirst() } as TestApp);
    }
  });

  it('two config changes in a row: each is recorded, and history shows each period with its own default', async () => {
    const clock = manualClock('2026-11-21T03:00:00.000Z');
    const first = await createTestApp({ clock });
    apps.push({ cleanup: async () => (rmSync(first.dir, { recursive: true, force: true }), rmSync(first.keyDir, { recursive: true, force: true })) } as TestApp);
    await first.run('breaker trip web --reason timeouts --yes');
    await first.close();
    const start = async (at: string, config: string) => {
      clock.set(at);
      const app = await createTestApp({ clock, dir: first.dir, keyDir: first.keyDir, config });
      apps.unshift(app);
      return app;
    };
    await (await start('2026-11-21T04:00:00.000Z', CHANGED)).close();
    const last = await start('2026-11-21T05:00:00.000Z', CHANGED.replace('perMinute: 900,', 'perMinute: 1500,'));
    const perMinuteAt = async (iso: string) =>
      ((await last.run(`history api --at ${iso}`)).data as { cluster: { rateLimits: { perMinute: number } } }).cluster.rateLimits.perMinute;
    expect(await perMinuteAt('2026-11-21T03:30:00Z')).toBe(600);
    expect(await perMinuteAt('2026-11-21T04:30:00Z')).toBe(900);
    expect(await perMinuteAt('2026-11-21T05:30:00Z')).toBe(1500);
    expect((await last.engine.state()).clusters.api?.rateLimits.perMinute).toBe(1500);
    const recorded = (await last.store.events({})).filter((e) => e.actor === 'config').map((e) => e.event);
    expect(recorded).toEqual([
      expect.objectContaining({ type: 'config.ratelimit', cluster: 'api', limits: { perMinute: 900 }, previous: { perMinute: 600 } }),
      expect.objectContaining({ type: 'config.ratelimit', cluster: 'db', limits: { perMinute: 200 }, previous: { perMinute: 100 } }),
      expect.objectContaining({ type: 'config.ratelimit', cluster: 'api', limits: { perMinute: 1500 }, previous: { perMinute: 900 } }),
    ]);
    expect((await last.run('audit verify')).outcome).toBe('ok');
  });
});
