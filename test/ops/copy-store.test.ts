import { afterEach, describe, expect, it } from 'vitest';
import { copyStore, nonEmptyTables } from '../../src/store/copy-store.js';
import { createPostgresDb } from '../../src/store/db/postgres-db.js';
import { createSqliteDb } from '../../src/store/db/sqlite-db.js';
import { migrateSqlDb } from '../../src/store/db/migrate-sql-db.js';
import { sql } from '../../src/store/db/sql.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import { postgresReachable, postgresSchema } from '../helpers/sql-backends.js';

const pgOk = await postgresReachable('copy-store tests');

(pgOk ? describe : describe.skip)('copyStore (SQLite → PostgreSQL over the SqlDb port)', () => {
  const opened: SqlDb[] = [];
  const drops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    for (const d of drops.splice(0)) await d();
  });
  const open = async () => {
    const source = createSqliteDb({ file: ':memory:' });
    await migrateSqlDb(source);
    const s = await postgresSchema();
    drops.push(s.drop);
    const target = await createPostgresDb({ url: s.url, schema: s.schema, max: 2 });
    opened.push(source, target);
    return { source, target };
  };
  const addInvocations = async (db: SqlDb, n: number, text = 'reply') => {
    for (let i = 0; i < n; i++) await db.run(sql`INSERT INTO invocations (key, received_at, reply) VALUES (${`k${i}`}, ${'2026-12-01T00:00:00.000Z'}, ${text})`);
  };

  it('copies in batches, reporting progress per batch up to the total', async () => {
    const { source, target } = await open();
    await addInvocations(source, 7);
    const seen: number[] = [];
    const result = await copyStore(source, target, { batchSize: 3, onProgress: (p) => p.table === 'invocations' && seen.push(p.copied) });

    expect(seen).toEqual([0, 3, 6, 7]);
    expect(result.tables.find((t) => t.table === 'invocations')?.rows).toBe(7);
    expect(await target.all(sql`SELECT key FROM invocations ORDER BY key`)).toHaveLength(7);
  });

  it('moves identity sequences past the copied ids, so the next row never collides', async () => {
    const { source, target } = await open();
    for (let i = 0; i < 5; i++) {
      await source.run(sql`INSERT INTO events (at, actor, scope, type, data) VALUES (${'2026-12-01T00:00:00.000Z'}, ${'a'}, ${'api'}, ${'ratelimit.set'}, ${'{}'})`);
    }
    await copyStore(source, target);
    const next = await target.one<{ seq: number }>(sql`INSERT INTO events (at, actor, scope, type, data) VALUES (${'2026-12-02T00:00:00.000Z'}, ${'b'}, ${'api'}, ${'ratelimit.set'}, ${'{}'}) RETURNING seq`);
    expect(next?.seq).toBe(6);
  });

  it('leaves the target empty when a row cannot be copied, so the copy can simply run again', async () => {
    const { source, target } = await open();
    await addInvocations(source, 3);
    // SQLite keeps a NUL character in text; PostgreSQL refuses it.
    await source.run(sql`INSERT INTO actions (id, kind, grp, command, confirmed, single_use, created_by, created_at) VALUES (${'b1'}, ${'run'}, ${'b1'}, ${'status\u0000'}, 0, 0, ${'u'}, ${'2026-12-01T00:00:00.000Z'})`);

    await expect(copyStore(source, target)).rejects.toThrow(/^table actions, rows 1–1: .*0x00/);
    expect(await nonEmptyTables(target)).toEqual([]);
  });
});
