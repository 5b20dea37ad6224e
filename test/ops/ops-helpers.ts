import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteDb } from '../../src/store/db/sqlite-db.js';
import { createPostgresDb } from '../../src/store/db/postgres-db.js';
import { countRows, listTables } from '../../src/store/copy-store.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import { createTestApp, TEST_CONFIG } from '../helpers/test-app.js';

/**
 * A data directory holding an SQLite store with history in most tables: control changes, role grants, an
 * incident and a silence, an API key, a schedule, a signed checkpoint and a key rotation.
 */
export async function seededStore(): Promise<{ dir: string; configFile: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-ops-'));
  const configFile = join(dir, '..', `${dir.split('/').pop()}.yaml`);
  writeFileSync(configFile, TEST_CONFIG);
  const app = await createTestApp({ dir });
  const ok = async (text: string) => {
    const r = await app.run(text, { confirmed: true });
    if (r.outcome !== 'ok') throw new Error(`seeding "${text}" failed: ${r.outcome} ${JSON.stringify(r.error)}`);
  };
  await ok('role grant slack:UANA operator --cluster api');
  await ok('killswitch on --reason drill');
  await ok('killswitch off');
  await ok('ratelimit set api --per-minute 300');
  await ok('breaker trip web --reason "error storm"');
  await ok('incident declare "Checkout errors" --sev 2 --cluster api');
  await ok('incident update 1 "rolled back"');
  await ok('silence api --for 2h --reason "known issue"');
  await ok('apikey create deploy-bot --role operator');
  await ok('schedule add "daily 02:00" "status" --name nightly');
  await app.audit.checkpointer.checkpoint();
  await ok('cluster disable db --reason maintenance');
  await app.close();
  return {
    dir,
    configFile,
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
      rmSync(`${dir}-keys`, { recursive: true, force: true });
      rmSync(configFile, { force: true });
    },
  };
}

/** Row counts of every table (but migration bookkeeping) of a database. */
export async function allCounts(db: SqlDb): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of await listTables(db)) if (t !== 'schema_migrations') out[t] = await countRows(db, t);
  return out;
}

export async function sqliteCounts(file: string) {
  const db = createSqliteDb({ file });
  try {
    return await allCounts(db);
  } finally {
    await db.close();
  }
}

export async function postgresCounts(url: string, schema: string) {
  const db = await createPostgresDb({ url, schema, max: 1 });
  try {
    return await allCounts(db);
  } finally {
    await db.close();
  }
}
