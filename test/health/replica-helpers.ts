import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load-config.js';
import { createEngine } from '../../src/engine/engine.js';
import { createHealthMonitor, type HealthMonitor } from '../../src/engine/health-monitor.js';
import { realTimers } from '../../src/engine/timers.js';
import { createLogger } from '../../src/log.js';
import { createPostgresDb } from '../../src/store/db/postgres-db.js';
import { migrateSqlDb } from '../../src/store/db/migrate-sql-db.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import { createSqliteDb } from '../../src/store/db/sqlite-db.js';
import type { HealthStore } from '../../src/store/health-store.js';
import { createSqlHealthStore } from '../../src/store/sql-health-store.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import { postgresSchema } from '../helpers/sql-backends.js';
import { manualClock } from '../helpers/test-app.js';

/**
 * Several replicas of the health monitor, each on its own database connection (as separate processes would
 * be), sharing one SQLite file or one PostgreSQL schema, driven round by round on one clock.
 */
export type Opened = { dbs: SqlDb[]; cleanup(): Promise<void> };

export async function sharedSqlite(n: number): Promise<Opened> {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-replicas-'));
  const dbs = Array.from({ length: n }, () => createSqliteDb({ file: join(dir, 'infrabot.db') }));
  return {
    dbs,
    async cleanup() {
      for (const db of dbs) await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function sharedPostgres(n: number): Promise<Opened> {
  const s = await postgresSchema();
  const dbs: SqlDb[] = [];
  for (let i = 0; i < n; i++) dbs.push(await createPostgresDb({ url: s.url, schema: s.schema, max: 3 }));
  return {
    dbs,
    async cleanup() {
      for (const db of dbs) await db.close();
      await s.drop();
    },
  };
}


export interface Replica {
  monitor: HealthMonitor;
  health: HealthStore;
}

/** `n` monitors of one config on one shared database (migrated once), each on its own connection. */
export async function openReplicas(backend: 'sqlite' | 'postgres', n: number, configText: string) {
  const opened = backend === 'sqlite' ? await sharedSqlite(n) : await sharedPostgres(n);
  const config = parseConfig(configText, 'test.yaml', {});
  const clock = manualClock();
  await migrateSqlDb(opened.dbs[0]!);
  const log = createLogger({ level: 'silent' });
  const replicas: Replica[] = [];
  for (const [i, db] of opened.dbs.entries()) {
    const store = await createSqlStore({ db });
    const engine = createEngine({ store, config, clock });
    const health = createSqlHealthStore(db);
    replicas.push({ health, monitor: await createHealthMonitor({ config, health, store, engine, timers: realTimers, log, replica: `replica-${i}` }) });
  }
  return { replicas, clock, cleanup: opened.cleanup };
}
