import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDb, withSchema } from '../../src/store/db/postgres-db.js';
import { createTestApp } from '../helpers/test-app.js';
import { runCli } from '../helpers/run-cli.js';
import { postgresReachable, postgresSchema, TEST_DATABASE_URL } from '../helpers/sql-backends.js';
import { postgresCounts, seededStore, sqliteCounts } from './ops-helpers.js';

let seeded: Awaited<ReturnType<typeof seededStore>>;
const scratch = mkdtempSync(join(tmpdir(), 'infrabot-backups-'));
beforeAll(async () => {
  seeded = await seededStore();
});
afterAll(() => {
  seeded?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** The CLI on a data directory, with the seeded store's key (so its signatures verify) and an optional DATABASE_URL. */
async function cli(argv: string[], opts: { dir?: string; url?: string } = {}) {
  process.env.INFRABOT_KEY_DIR = `${seeded.dir}-keys`;
  if (opts.url) process.env.DATABASE_URL = opts.url;
  try {
    return await runCli([...argv, '--config', seeded.configFile, '--data-dir', opts.dir ?? seeded.dir]);
  } finally {
    delete process.env.INFRABOT_KEY_DIR;
    delete process.env.DATABASE_URL;
  }
}

describe('backup and restore on SQLite', () => {
  it('backs up while the bot keeps writing, and the restored copy verifies', async () => {
    const app = await createTestApp({ dir: seeded.dir, keyDir: `${seeded.dir}-keys` });
    try {
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i++) await app.run(`ratelimit set api --per-minute ${400 + (i % 100)}`);
      })();
      const file = join(scratch, 'live.db');
      const backup = await cli(['backup', file]);
      writing = false;
      await writer;
      expect(backup.code).toBe(0);
      expect(backup.out).toMatch(/^Backed up .*infrabot\.db to .*live\.db \([\d.]+ MB\)/);
      expect(backup.out).toContain(`Restore with: infrabot restore ${file}`);

      const fresh = mkdtempSync(join(scratch, 'fresh-'));
      const restored = await cli(['restore', file], { dir: fresh });
      expect(restored.err).not.toContain('BROKEN');
      expect(restored.code).toBe(0);
      expect(restored.out).toContain(`Restored ${file} into ${join(fresh, 'infrabot.db')}`);
      expect(restored.out).toContain('audit log intact');
      expect((await sqliteCounts(join(fresh, 'infrabot.db'))).audit).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  it('never restores under a running bot, even with --force', async () => {
    const dir = mkdtempSync(join(scratch, 'running-'));
    copyFileSync(join(seeded.dir, 'infrabot.db'), join(dir, 'infrabot.db'));
    const file = join(scratch, 'for-running.db');
    expect((await cli(['backup', file])).code).toBe(0);
    const app = await createTestApp({ dir, keyDir: `${seeded.dir}-keys` });
    try {
      const r = await cli(['restore', file, '--force'], { dir });
      expect(r.code).toBe(64);
      expect(r.err).toContain(`a running bot has ${join(dir, 'infrabot.db')} open; stop it (every replica) and run restore again`);
    } finally {
      await app.close();
    }
    // Once the bot is gone the same restore goes ahead.
    expect((await cli(['restore', file, '--force'], { dir })).code).toBe(0);
  });

  it('refuses to replace a store holding data without --force, naming what it holds', async () => {
    const file = join(scratch, 'over-data.db');
    expect((await cli(['backup', file])).code).toBe(0);
    const before = await sqliteCounts(join(seeded.dir, 'infrabot.db'));
    const r = await cli(['restore', file]);
    expect(r.code).toBe(64);
    expect(r.err).toMatch(/infrabot\.db holds data \(events \(\d+\), control_state \(1\), audit \(\d+\).*\); restore replaces all of it: give --force/);
    expect(await sqliteCounts(join(seeded.dir, 'infrabot.db'))).toEqual(before);
  });

  it('refuses a file that is not an SQLite backup, and a backup name already taken', async () => {
    const junk = join(scratch, 'junk.db');
    writeFileSync(junk, 'not a database at all, just text');
    const r = await cli(['restore', junk, '--force']);
    expect(r.code).toBe(64);
    expect(r.err).toContain(`${junk} is not an SQLite backup`);
    const taken = await cli(['backup', junk]);
    expect(taken.code).toBe(64);
    expect(taken.err).toContain(`${junk} already exists; give another file name`);
  });
});

const pgOk = await postgresReachable('backup/restore on PostgreSQL');

(pgOk ? describe : describe.skip)('backup and restore on PostgreSQL (pg_dump / pg_restore)', () => {
  let s: Awaited<ReturnType<typeof postgresSchema>>;
  let url: string;
  beforeAll(async () => {
    s = await postgresSchema();
    url = withSchema(s.url, s.schema);
    expect((await cli(['store', 'copy', '--to', url])).code).toBe(0);
  });
  afterAll(async () => s?.drop());

  it('dumps the schema, refuses to restore under a running bot or over data, restores with --force and verifies', async () => {
    const file = join(scratch, 'pg.dump');
    const backup = await cli(['backup', file], { url });
    expect(backup.err).toBe('');
    expect(backup.code).toBe(0);
    const atBackup = await postgresCounts(s.url, s.schema);
    expect((await cli(['run', 'ratelimit set web --per-minute 901'], { url })).code).toBe(0);

    const bot = await createPostgresDb({ url, max: 1 });
    await bot.one({ strings: ['SELECT 1'], values: [] }); // a live connection, as a running replica holds
    const underBot = await cli(['restore', file, '--force'], { url });
    await bot.close();
    expect(underBot.code).toBe(64);
    expect(underBot.err).toContain('1 connection of a running bot use');

    const overData = await cli(['restore', file], { url });
    expect(overData.code).toBe(64);
    expect(overData.err).toContain('holds data');

    const restored = await cli(['restore', file, '--force'], { url });
    expect(restored.err).not.toContain('BROKEN');
    expect(restored.code).toBe(0);
    expect(restored.out).toContain('audit log intact');
    expect(await postgresCounts(s.url, s.schema)).toEqual(atBackup);
  });

  it('says what to install when pg_dump is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = scratch; // no PostgreSQL client tools here
    try {
      const r = await cli(['backup', join(scratch, 'nowhere.dump')], { url });
      expect(r.code).toBe(70);
      expect(r.err).toContain('pg_dump was not found on PATH: install the PostgreSQL client tools');
    } finally {
      process.env.PATH = path;
    }
  });

  it('tells an SQLite backup from a PostgreSQL store', async () => {
    const file = join(scratch, 'sqlite-for-pg.db');
    expect((await cli(['backup', file])).code).toBe(0);
    const r = await cli(['restore', file, '--force'], { url: TEST_DATABASE_URL });
    expect(r.code).toBe(64);
    expect(r.err).toContain('is an SQLite backup, but this bot\'s store is PostgreSQL; load it with: infrabot store copy --to <url>');
  });
});
