import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteDb } from '../src/store/db/sqlite-db.js';
import { createSqlStore } from '../src/store/sql-store.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let app: TestApp;
afterEach(async () => app?.cleanup());

/** Five audited commands, then the app is closed so the test can tamper with the file like an attacker would. */
async function auditedFile() {
  app = await createTestApp();
  for (const t of ['status', 'cluster disable api --reason "bad deploy" --yes', 'ratelimit set web --per-minute 10', 'nonsense', 'whoami']) {
    await app.run(t);
  }
  await app.close();
  return app.dbFile;
}

async function verify(file: string) {
  const store = await createSqlStore({ db: createSqliteDb({ file }) });
  try {
    return await store.verifyAudit();
  } finally {
    await store.close();
  }
}

const tamper = (file: string, sql: string) => {
  const db = new Database(file);
  db.exec(sql);
  db.close();
};

describe('audit hash chain', () => {
  it('records every invocation with who, what, where and how it ended', async () => {
    app = await createTestApp();
    await app.run('cluster disable api --reason "bad deploy" --yes', { as: 'slack:U1', platform: 'slack', id: 'T-1' });
    await app.run('clustr list', { as: 'local:root-admin' });
    const [invalid, denied] = await app.store.searchAudit({ limit: 10 });
    expect(denied).toMatchObject({
      platform: 'slack', userId: 'slack:U1', rawText: 'cluster disable api --reason "bad deploy" --yes', command: 'cluster disable',
      args: { cluster: 'api', reason: 'bad deploy' }, cluster: 'api', outcome: 'denied', invocationId: 'T-1',
    });
    expect(denied!.traceId).toMatch(/^[a-z2-9]{10}$/);
    expect(invalid).toMatchObject({ outcome: 'invalid', error: 'Unknown command "clustr". Did you mean "cluster"?' });
    expect(invalid!.prevHash).toBe(denied!.hash);
  });

  it('stays verifiable when chat text carries a broken emoji (a lone surrogate)', async () => {
    app = await createTestApp();
    await app.run('status \ud83d', { as: 'local:nobody' });
    await app.run('whoami \udc00 x');
    expect(await app.store.verifyAudit()).toEqual({ ok: true, count: 2 });
    await app.close();
    expect(await verify(app.dbFile)).toEqual({ ok: true, count: 2 });
  });

  it('hashes what SQLite and JavaScript both render as the same canonical JSON (the fast verify path)', async () => {
    const db = new Database(':memory:');
    const render = db.prepare('SELECT json_array(?, ?, NULL, ?)').pluck();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite' }), fc.string({ unit: 'binary' }), fc.integer(), (a, b, n) => {
        const wellFormed = b.replace(/[\uD800-\uDFFF]/g, '\uFFFD'); // stored text never holds lone surrogates
        expect(render.get(a, wellFormed, BigInt(n))).toBe(JSON.stringify([a, wellFormed, null, n])); // ids are INTEGER columns
      }),
      { numRuns: 2000 },
    );
    db.close();
  });

  it('verifies an untouched chain', async () => {
    expect(await verify(await auditedFile())).toEqual({ ok: true, count: 5 });
  });

  it('names the first changed record', async () => {
    const file = await auditedFile();
    tamper(file, "UPDATE audit SET user_id = 'local:someone-else' WHERE id = 3");
    expect(await verify(file)).toMatchObject({ ok: false, firstBad: 3, problem: expect.stringContaining('contents do not match') });
  });

  it('reports a record whose hashed column was changed to a BLOB instead of throwing', async () => {
    const file = await auditedFile();
    tamper(file, "UPDATE audit SET raw_text = CAST('status' AS BLOB) WHERE id = 3");
    expect(await verify(file)).toMatchObject({ ok: false, firstBad: 3, count: 2, problem: expect.stringContaining('binary data') });
    tamper(file, "UPDATE audit SET raw_text = 'x' WHERE id = 3; UPDATE audit SET hash = CAST(hash AS BLOB) WHERE id = 2");
    expect(await verify(file)).toMatchObject({ ok: false, firstBad: 2 });
  });

  it('detects a deleted record in the middle and at the end', async () => {
    const file = await auditedFile();
    tamper(file, 'DELETE FROM audit WHERE id = 2');
    expect(await verify(file)).toMatchObject({ ok: false, firstBad: 3 });
    const file2 = await auditedFile();
    tamper(file2, 'DELETE FROM audit WHERE id = 5');
    expect(await verify(file2)).toMatchObject({ ok: false, problem: expect.stringContaining('deleted from the end') });
  });

  it('detects reordered records even when their hashes are carried along', async () => {
    const file = await auditedFile();
    tamper(file, `
      UPDATE audit SET id = 100 WHERE id = 2;
      UPDATE audit SET id = 2 WHERE id = 3;
      UPDATE audit SET id = 3 WHERE id = 100;`);
    expect(await verify(file)).toMatchObject({ ok: false, firstBad: 2 });
  });

  it('searches by user, cluster, action and time, newest first', async () => {
    app = await createTestApp();
    await app.run('role grant local:otto operator');
    await app.run('cluster disable api --reason "bad deploy" --yes', { as: 'local:otto' });
    await app.run('cluster enable api', { as: 'local:otto' });
    await app.run('ratelimit set web --per-minute 10', { as: 'local:otto' });
    const reply = await app.run('audit --user otto --action cluster');
    expect(reply.table!.rows.map((r) => r[3])).toEqual(['cluster enable api', 'cluster disable api --reason "bad deploy" --yes']);
    const byCluster = await app.run('audit --cluster web');
    expect(byCluster.table!.rows.map((r) => r[3])).toEqual(['ratelimit set web --per-minute 10']);
    const bad = await app.run('audit --since yesterday');
    expect(bad).toMatchObject({ outcome: 'invalid', text: expect.stringContaining('"yesterday" is not a time') });
  });
});
