/**
 * Commands/s through the real pipeline (parse → authorize → decide → commit with audit → reply) on the embedded
 * SQLite store, on PostgreSQL with one app instance, and on PostgreSQL with three app instances sharing one
 * schema (three replicas in one process, each with its own connection pool), in one run, as ratios against
 * the SQLite figure. The same mixed workload everywhere: a third of the commands change control state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createApp, type App } from '../src/app.js';
import { parseConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/log.js';
import { withSchema } from '../src/store/db/postgres-db.js';
import { shortId } from '../src/util/ids.js';
import { line } from './stats.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const N = Number(process.env.BENCH_REPLICA_COMMANDS ?? 3000);
const IN_FLIGHT = 32;
const MIX = ['status', 'ratelimit show api', 'whoami', 'ratelimit set api --per-minute 500', 'ratelimit set web --per-minute 501', 'breaker show'];
const CONFIG = `
clusters:
  api: { rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 } }
  web: { rateLimits: { perMinute: 1200, perHour: 50000, perDay: 800000 } }
admins: [local:root-admin]
log: { level: warn }
`;

const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-replicas-'));
const keyDir = `${dir}-keys`;
const schemas: string[] = [];

async function openApp(name: string, url?: string): Promise<App> {
  const config = parseConfig(CONFIG, 'bench.yaml', {});
  if (url) config.storage.url = url;
  return createApp({ config, dataDir: join(dir, name), log: createLogger({ level: 'silent' }), metrics: false, keyDir, env: {} });
}

/** Runs N commands, IN_FLIGHT at a time, spread round-robin over the apps; returns commands/s and refusals. */
async function drive(apps: App[]): Promise<{ perSecond: number; refused: number }> {
  const run = (i: number) =>
    apps[i % apps.length]!.pipeline.handle({ id: shortId(16), platform: 'console', user: { id: 'local:root-admin', displayName: 'root' }, text: MIX[i % MIX.length]! });
  for (let i = 0; i < 300; i++) await run(i); // warm-up
  let refused = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i += IN_FLIGHT) {
    const replies = await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, N - i) }, (_, j) => run(i + j)));
    refused += replies.filter((r) => r.outcome !== 'ok').length;
  }
  return { perSecond: N / ((performance.now() - t0) / 1000), refused };
}

async function postgresUrl(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const schema = `bench_${shortId(8).toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
    schemas.push(schema);
    return withSchema(DATABASE_URL, schema);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} cmd/s`;
const describeRun = (r: { perSecond: number; refused: number }) => `${fmt(r.perSecond)}${r.refused ? ` (${r.refused} refused)` : ''}`;

try {
  const sqlite = await openApp('sqlite');
  const base = await drive([sqlite]);
  await sqlite.close();
  line(`pipeline on SQLite, ${IN_FLIGHT} in flight`, describeRun(base));

  const one = await postgresUrl();
  if (!one) console.log(`PostgreSQL not reachable at ${DATABASE_URL}: replica figures skipped`);
  else {
    const app = await openApp('pg1', one);
    const single = await drive([app]);
    await app.close();
    line('pipeline on PostgreSQL, one replica', describeRun(single));

    const shared = (await postgresUrl())!;
    const first = await openApp('pg3-a', shared); // migrates the schema; the others find it done
    const three = [first, await openApp('pg3-b', shared), await openApp('pg3-c', shared)];
    const spread = await drive(three);
    await Promise.all(three.map((a) => a.close()));
    line('pipeline on PostgreSQL, three replicas, one schema', describeRun(spread));
    line('  PostgreSQL one replica / SQLite', `${(single.perSecond / base.perSecond).toFixed(2)}×`);
    line('  PostgreSQL three replicas / SQLite', `${(spread.perSecond / base.perSecond).toFixed(2)}×`);
  }
} finally {
  if (schemas.length) {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect().then(async () => {
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    }).finally(() => client.end());
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
}
