/**
 * Audit-append latency on each backend: one audited commit (invocation key, audit record, chain head) at a
 * time, p50/p99, next to the peer floor on the same backend in the same run (one autocommitted INSERT of an
 * audit-sized row through the same client). On PostgreSQL also two replicas (two pools) appending at once,
 * which the chain-head lock serializes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Reply } from '../src/framework/reply.js';
import { createPostgresDb } from '../src/store/db/postgres-db.js';
import { createSqliteDb } from '../src/store/db/sqlite-db.js';
import type { SqlDb } from '../src/store/db/sql-db.js';
import { sql } from '../src/store/db/sql.js';
import { createSqlStore } from '../src/store/sql-store.js';
import type { Store } from '../src/store/store.js';
import { shortId } from '../src/util/ids.js';
import { fmt, line, summarize } from './stats.js';

const N = Number(process.env.BENCH_APPENDS ?? 2000);
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const reply = { title: 'ok', text: 'x'.repeat(200) } as Reply;

const append = (store: Store, i: number, tag: string) =>
  store.commit({
    expectedSeq: 0,
    events: [],
    invocationKey: `${tag}-${i}`,
    reply,
    audit: {
      at: new Date().toISOString(), platform: 'slack', userId: `slack:U${i % 50}`, userName: `user${i % 50}`, channel: 'C0OPS',
      rawText: `status api ${i}`, command: 'status', args: { cluster: 'api' }, cluster: 'api', outcome: 'ok', traceId: `t${i}`, invocationId: `${tag}-${i}`,
    },
  });

async function timeEach(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 100; i++) await fn(-i - 1); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
  }
  return samples;
}

function report(label: string, samples: number[], floor: number[]) {
  const s = summarize(samples);
  const f = summarize(floor);
  line(`${label}: audit append p50 / p99`, `${fmt(s.p50)} / ${fmt(s.p99)}`);
  line(`  peer: one autocommit INSERT p50 / p99`, `${fmt(f.p50)} / ${fmt(f.p99)}`);
  line('  append / peer insert (p50)', `${(s.p50 / f.p50).toFixed(2)}×`);
}

async function onSqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-append-'));
  try {
    const db = createSqliteDb({ file: join(dir, 'a.db') });
    const store = await createSqlStore({ db });
    const samples = await timeEach(N, (i) => append(store, i, 'seq'));
    const floor = await timeEach(N, (i) => db.run(sql`INSERT INTO invocations (key, received_at, reply) VALUES (${`floor-${i}`}, ${new Date().toISOString()}, ${JSON.stringify(reply)})`));
    report('SQLite (synchronous=FULL)', samples, floor);
    const t = performance.now();
    await Promise.all(Array.from({ length: N }, (_, i) => append(store, i, 'burst')));
    line('  32+ in flight (group commit)', `${Math.round(N / ((performance.now() - t) / 1000)).toLocaleString('en-US')} appends/s`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function onPostgres() {
  const schema = `bench_${shortId(8).toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
  const probe = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1500 });
  try {
    await probe.connect();
  } catch {
    line('PostgreSQL', `not reachable at ${PG_URL}: skipped`);
    return;
  }
  const dbs: SqlDb[] = [];
  try {
    const open = async () => {
      const db = await createPostgresDb({ url: PG_URL, schema, max: 8 });
      dbs.push(db);
      return db;
    };
    const db = await open();
    const store = await createSqlStore({ db, ownsDb: false });
    const samples = await timeEach(N, (i) => append(store, i, 'seq'));
    const floor = await timeEach(N, (i) => db.run(sql`INSERT INTO invocations (key, received_at, reply) VALUES (${`floor-${i}`}, ${new Date().toISOString()}, ${JSON.stringify(reply)})`));
    report('PostgreSQL (pg, one replica)', samples, floor);
    const burst = performance.now();
    await Promise.all(Array.from({ length: N }, (_, i) => append(store, i, 'burst')));
    line('  all in flight (group commit)', `${Math.round(N / ((performance.now() - burst) / 1000)).toLocaleString('en-US')} appends/s`);

    // Two replicas, 8 appends in flight each: every append waits for the chain head.
    const other = await createSqlStore({ db: await open(), ownsDb: false });
    const lat: number[] = [];
    const t = performance.now();
    await Promise.all(
      [store, other].flatMap((s, r) =>
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = w; i < N / 2; i += 8) {
            const t0 = performance.now();
            await append(s, i, `rep${r}`);
            lat.push(performance.now() - t0);
          }
        }),
      ),
    );
    const s = summarize(lat);
    line('PostgreSQL, 2 replicas × 8 in flight', `${Math.round(N / ((performance.now() - t) / 1000)).toLocaleString('en-US')} appends/s, p50 ${fmt(s.p50)} / p99 ${fmt(s.p99)}`);
    const verified = await store.verifyAudit();
    line('  chain after concurrent appends', verified.ok ? `intact (${verified.count} records)` : 'BROKEN', 'intact', verified.ok);
  } finally {
    for (const db of dbs) await db.close();
    await probe.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await probe.end();
  }
}

await onSqlite();
await onPostgres();
