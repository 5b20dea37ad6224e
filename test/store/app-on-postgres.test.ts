import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log.js';
import { postgresReachable, postgresSchema } from '../helpers/sql-backends.js';
import { TEST_CONFIG, logSink } from '../helpers/test-app.js';

const pgOk = await postgresReachable('the app on PostgreSQL');

(pgOk ? describe : describe.skip)('the bot on PostgreSQL (DATABASE_URL)', () => {
  let schema: Awaited<ReturnType<typeof postgresSchema>>;
  let dir: string;
  let app: App;
  let url: string;
  const open = (sub: string) =>
    createApp({
      config: parseConfig(TEST_CONFIG, 'test.yaml', { DATABASE_URL: url }),
      dataDir: join(dir, sub),
      keyDir: `${dir}-keys`,
      env: {},
      log: createLogger({ level: 'debug', destination: logSink().stream }),
    });
  beforeAll(async () => {
    schema = await postgresSchema();
    const admin = new pg.Client({ connectionString: schema.url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema.schema}"`);
    await admin.end();
    dir = mkdtempSync(join(tmpdir(), 'infrabot-pg-app-'));
    // The schema of this run via the URL's options, exactly as an operator may pass one.
    url = `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`;
    app = await open('a');
  });
  afterAll(async () => {
    await app?.close();
    await schema?.drop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}-keys`, { recursive: true, force: true });
  });

  const run = (text: string, id: string, on = app) =>
    on.pipeline.handle({ id, platform: 'console', user: { id: 'local:root-admin', displayName: 'root-admin' }, text, confirmed: true });

  it('runs commands, answers a redelivery from the store, says which backend it is on, and keeps the chain', async () => {
    expect(app.db).toBeUndefined(); // no SQLite file is opened
    expect(app.storeLocation).toMatchObject({ backend: 'postgres', display: '127.0.0.1:5432/test' });
    const on = await run('killswitch on --reason "pg drill"', 'p1');
    expect(on).toMatchObject({ outcome: 'ok' });
    expect(await run('killswitch on --reason "pg drill"', 'p1')).toEqual(on);
    await run('ratelimit set web --per-minute 10', 'p2');
    await run('apikey create ci --role viewer', 'p3');
    const status = await run('status', 'p4');
    expect(status.text).toContain('Store: PostgreSQL');
    expect(status.data).toMatchObject({ store: 'postgres', killSwitch: { on: true } });
    expect((await app.store.events({})).map((e) => e.event.type)).toEqual(['killswitch.set', 'ratelimit.set']);
    expect(await app.apiKeys!.list()).toHaveLength(1);
    expect(await app.store.verifyAudit()).toEqual({ ok: true, count: 4 });
  });

  it('a command delivered to two replicas at once runs once; both answer with its reply', async () => {
    const other = await open('b');
    try {
      const before = (await app.store.events({})).length;
      for (let i = 0; i < 5; i++) {
        const [ra, rb] = await Promise.all([run(`ratelimit set api --per-minute ${100 + i}`, `twice-${i}`), run(`ratelimit set api --per-minute ${100 + i}`, `twice-${i}`, other)]);
        expect(rb).toEqual(ra);
      }
      // Different commands from both replicas at once: each decided on the state the other may have moved.
      const both = await Promise.all([run('cluster disable web --reason "bad deploy"', 'x1'), run('ratelimit set db --per-minute 7', 'x2', other)]);
      expect(both.map((r) => r.outcome)).toEqual(['ok', 'ok']);
      const events = await other.store.events({});
      expect(events.length - before).toBe(7);
      expect(await other.store.verifyAudit()).toMatchObject({ ok: true });
      const state = await other.engine.state();
      expect(state.clusters.api!.rateLimits.perMinute).toBe(104);
      expect(state.clusters.web!.enabled).toBe(false);
      expect(state.clusters.db!.rateLimits.perMinute).toBe(7);
    } finally {
      await other.close();
    }
  });
});
