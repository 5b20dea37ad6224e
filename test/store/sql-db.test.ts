import { afterEach, expect, it } from 'vitest';
import { migrateSqlDb } from '../../src/store/db/migrate-sql-db.js';
import { sql } from '../../src/store/db/sql.js';
import { UniqueViolation } from '../../src/store/db/sql-db.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { describeEachBackend } from '../helpers/sql-backends.js';

describeEachBackend('unit of work', (backend) => {
  afterEach(() => backend.cleanup());

  const withTable = async () => {
    const db = await backend.open();
    await db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL, version INTEGER NOT NULL)');
    return db;
  };

  it('applies every migration once, and a second run applies nothing', async () => {
    const db = await backend.open();
    expect(await migrateSqlDb(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrateSqlDb(db)).toEqual([]);
  });

  it('keeps all of a unit of work or none of it', async () => {
    const db = await withTable();
    await db.transaction(async (tx) => {
      await tx.run(sql`INSERT INTO kv (k, v, version) VALUES (${'a'}, ${1}, 1)`);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.run(sql`INSERT INTO kv (k, v, version) VALUES (${'b'}, ${2}, 1)`);
        throw new Error('decided against it');
      }),
    ).rejects.toThrow('decided against it');
    expect(await db.all(sql`SELECT k FROM kv ORDER BY k`)).toEqual([{ k: 'a' }]);
  });

  it('commits concurrent units of work independently: one failing undoes only itself', async () => {
    const db = await withTable();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.run(sql`INSERT INTO kv (k, v, version) VALUES (${`k${i}`}, ${i}, 1)`);
          if (i % 5 === 0) throw new Error(`unit ${i} fails`);
          return i;
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4);
    const rows = await db.all<{ k: string }>(sql`SELECT k FROM kv`);
    expect(rows.map((r) => r.k).sort()).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 5 !== 0).map((i) => `k${i}`).sort());
  });

  it('reports a duplicate key as UniqueViolation on both backends', async () => {
    const db = await withTable();
    await db.run(sql`INSERT INTO kv (k, v, version) VALUES (${'a'}, ${1}, 1)`);
    await expect(db.run(sql`INSERT INTO kv (k, v, version) VALUES (${'a'}, ${2}, 1)`)).rejects.toBeInstanceOf(UniqueViolation);
  });

  it('returns BIGINT values as numbers', async () => {
    const db = await withTable();
    await db.run(sql`INSERT INTO kv (k, v, version) VALUES (${'a'}, ${2 ** 40}, 1)`);
    expect(await db.one(sql`SELECT v FROM kv WHERE k = ${'a'}`)).toEqual({ v: 2 ** 40 });
  });

  it('lets exactly one of two compare-and-set writers win', async () => {
    const db = await withTable();
    await db.run(sql`INSERT INTO kv (k, v, version) VALUES (${'a'}, ${0}, 1)`);
    const cas = (v: number) =>
      db.transaction(async (tx) => (await tx.run(sql`UPDATE kv SET v = ${v}, version = version + 1 WHERE k = ${'a'} AND version = ${1}`)).changes);
    const changes = await Promise.all([cas(10), cas(20)]);
    expect(changes.sort()).toEqual([0, 1]);
    expect(await db.one(sql`SELECT version FROM kv`)).toEqual({ version: 2 });
  });

  it('runs a unit of work started inside another as part of it', async () => {
    const db = await withTable();
    await expect(
      db.transaction(async (tx) => {
        await tx.run(sql`INSERT INTO kv (k, v, version) VALUES (${'outer'}, ${1}, 1)`);
        await db.transaction(async (inner) => inner.run(sql`INSERT INTO kv (k, v, version) VALUES (${'inner'}, ${1}, 1)`));
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await db.all(sql`SELECT k FROM kv`)).toEqual([]);
  });

  it('builds dynamic conditions with sql.join, values always bound', async () => {
    const db = await withTable();
    await db.run(sql`INSERT INTO kv (k, v, version) VALUES (${"x'; DROP TABLE kv; --"}, ${1}, 1)`);
    const conds = [sql`k = ${"x'; DROP TABLE kv; --"}`, sql`v >= ${1}`];
    expect(await db.all(sql`SELECT v FROM kv WHERE ${sql.join(conds, ' AND ')}`)).toEqual([{ v: 1 }]);
  });
});
