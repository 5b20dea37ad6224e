import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createSqliteDb } from '../../src/store/db/sqlite-db.js';
import { withSchema } from '../../src/store/db/postgres-db.js';
import { sql } from '../../src/store/db/sql.js';
import { runCli } from '../helpers/run-cli.js';
import { createTestApp } from '../helpers/test-app.js';
import { postgresReachable, postgresSchema, TEST_DATABASE_URL } from '../helpers/sql-backends.js';
import { postgresCounts, seededStore, sqliteCounts } from './ops-helpers.js';

const pgOk = await postgresReachable('store copy tests');

(pgOk ? describe : describe.skip)('infrabot store copy --to postgres://…', () => {
  let seeded: Awaited<ReturnType<typeof seededStore>>;
  const schemas: Awaited<ReturnType<typeof postgresSchema>>[] = [];
  const freshSchema = async () => {
    const s = await postgresSchema();
    schemas.push(s);
    return s;
  };
  const copy = (schema: string, dir = seeded.dir) =>
    runCli(['store', 'copy', '--to', TEST_DATABASE_URL, '--schema', schema, '--config', seeded.configFile, '--data-dir', dir]);

  beforeAll(async () => {
    seeded = await seededStore();
  });
  afterAll(async () => {
    for (const s of schemas) await s.drop();
    seeded?.cleanup();
  });

  it('copies every table row for row, verifies the audit log there and prints counts per table', async () => {
    const s = await freshSchema();
    const { code, out, err } = await copy(s.schema);

    expect(err).not.toMatch(/infrabot:|BROKEN/);
    expect(err).toContain('1 of 1 witnessed checkpoints match the database');
    expect(code).toBe(0);
    const source = await sqliteCounts(join(seeded.dir, 'infrabot.db'));
    const target = await postgresCounts(s.url, s.schema);
    expect(target).toEqual(source);
    // The seeded store has history in the tables that matter most.
    for (const t of ['events', 'audit', 'audit_checkpoints', 'incidents', 'silences', 'api_keys', 'schedules']) expect(source[t], t).toBeGreaterThan(0);
    expect(out).toMatch(new RegExp(`audit\\s+${source.audit} → ${source.audit}\\n`));
    expect(out).toMatch(/audit log intact: \d+ records, 1 signed checkpoint/);
    expect(out).not.toContain('MISMATCH');
    expect(out).toContain(`Done. Start the bot with DATABASE_URL=${withSchema(s.url, s.schema)} to run on the copy.`);
  });

  it('the copied store serves the bot: history --at gives the same point-in-time state, and new commands extend the chain', async () => {
    const s = await freshSchema();
    expect((await copy(s.schema)).code).toBe(0);
    const sqliteDb = createSqliteDb({ file: join(seeded.dir, 'infrabot.db') });
    const events = await sqliteDb.all<{ at: string; scope: string }>(sql`SELECT at, scope FROM events ORDER BY seq`);
    await sqliteDb.close();
    const middle = events[Math.floor(events.length / 2)]!.at;
    const on = (url?: string) => (argv: string[]) => {
      if (url) process.env.DATABASE_URL = url;
      return runCli([...argv, '--config', seeded.configFile, '--data-dir', seeded.dir]).finally(() => delete process.env.DATABASE_URL);
    };
    const pgUrl = withSchema(s.url, s.schema);
    for (const scope of ['api', 'web', 'global']) {
      const fromSqlite = await on()(['run', `history ${scope} --at ${middle}`, '--json']);
      const fromPostgres = await on(pgUrl)(['run', `history ${scope} --at ${middle}`, '--json']);
      expect(fromPostgres.code).toBe(0);
      expect(JSON.parse(fromPostgres.out).data).toEqual(JSON.parse(fromSqlite.out).data);
    }
    const before = { pg: await postgresCounts(s.url, s.schema), sqlite: await sqliteCounts(join(seeded.dir, 'infrabot.db')) };
    expect((await on(pgUrl)(['run', 'ratelimit set web --per-minute 900', '--json'])).code).toBe(0);
    // Written to PostgreSQL (new ids past the copied ones), not to the SQLite file.
    expect((await postgresCounts(s.url, s.schema)).events).toBe(before.pg.events! + 1);
    expect((await sqliteCounts(join(seeded.dir, 'infrabot.db'))).events).toBe(before.sqlite.events);
    const verify = await on(pgUrl)(['audit', 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.out).toContain('audit log intact');
  });

  it('refuses a target that already holds data, and changes nothing there', async () => {
    const s = await freshSchema();
    expect((await copy(s.schema)).code).toBe(0);
    const before = await postgresCounts(s.url, s.schema);

    const again = await copy(s.schema);
    expect(again.code).toBe(64);
    expect(again.err).toMatch(/the target already holds data: events \(\d+\), .*store copy only fills an empty store/);
    expect(await postgresCounts(s.url, s.schema)).toEqual(before);
  });

  it('refuses a source table it does not know instead of leaving it behind, and writes nothing', async () => {
    const extra = await seededStore();
    try {
      const db = createSqliteDb({ file: join(extra.dir, 'infrabot.db') });
      await db.exec('CREATE TABLE mystery_notes (note TEXT)');
      await db.close();
      const s = await freshSchema();
      const r = await runCli(['store', 'copy', '--to', TEST_DATABASE_URL, '--schema', s.schema, '--config', extra.configFile, '--data-dir', extra.dir]);

      expect(r.code).toBe(64);
      expect(r.err).toContain('the source has tables store copy does not know: mystery_notes');
      expect(Object.values(await postgresCounts(s.url, s.schema)).every((n) => n === 0)).toBe(true);
    } finally {
      extra.cleanup();
    }
  });

  it('refuses to copy a store a running bot is still writing', async () => {
    const app = await createTestApp({ dir: seeded.dir, keyDir: `${seeded.dir}-keys` });
    try {
      const s = await freshSchema();
      const r = await copy(s.schema);
      expect(r.code).toBe(64);
      expect(r.err).toContain(`a running bot has ${join(seeded.dir, 'infrabot.db')} open; stop it first`);
    } finally {
      await app.close();
    }
  });

  it('refuses a --to that is not a PostgreSQL URL, naming it', async () => {
    const r = await runCli(['store', 'copy', '--to', 'mysql://db/x', '--config', seeded.configFile, '--data-dir', seeded.dir]);
    expect(r.code).toBe(64);
    expect(r.err).toContain('--to "mysql://db/x" is not a postgres:// URL');
  });
});
