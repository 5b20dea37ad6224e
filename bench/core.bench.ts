/**
 * Foundation figures: commands/s through the whole pipeline (parse → authorize → audit → engine → reply),
 * compared with a bare SQLite insert of one audit row (the floor any audited command pays), and audit search
 * and verify over 1,000,000 records.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toAuditRow, GENESIS_HASH } from '../src/audit/audit-record.js';
import { createSqliteDb } from '../src/store/db/sqlite-db.js';
import { createSqlStore } from '../src/store/sql-store.js';
import { createTestApp } from '../test/helpers/test-app.js';
import { fmt, line, openMigratedSqlite, summarize } from './stats.js';

const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-'));
const AUDIT_RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 1_000_000);

async function pipelineThroughput() {
  const app = await createTestApp({ dir: join(dir, 'pipeline') });
  await app.run('role grant local:otto operator --cluster api');
  const mix = ['status', 'ratelimit show api', 'whoami', 'ratelimit set api --per-minute 500', 'ratelimit set api --per-minute 501', 'breaker show'];
  const N = 30_000;
  for (let i = 0; i < 2000; i++) await app.run(mix[i % mix.length]!, { as: 'local:otto' }); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await app.run(mix[i % mix.length]!, { as: 'local:otto' });
  const seconds = (performance.now() - t0) / 1000;
  const perSecond = N / seconds;

  // Many users at once, as in a busy incident channel: 32 commands in flight at a time.
  const t2 = performance.now();
  for (let i = 0; i < N; i += 32) {
    await Promise.all(Array.from({ length: 32 }, (_, j) => app.run(mix[(i + j) % mix.length]!, { as: 'local:otto' })));
  }
  const concurrent = N / ((performance.now() - t2) / 1000);
  await app.close();

  // Peer baseline: one prepared INSERT of an audit-sized row per command, nothing else.
  const db = await openMigratedSqlite(join(dir, 'floor.db'));
  const insert = db.prepare('INSERT INTO invocations (key, received_at, reply) VALUES (?, ?, ?)');
  const t1 = performance.now();
  for (let i = 0; i < N; i++) insert.run(`k${i}`, new Date().toISOString(), 'x'.repeat(300));
  const floor = N / ((performance.now() - t1) / 1000);
  db.close();

  line('pipeline, sequential mixed commands', `${Math.round(perSecond).toLocaleString('en-US')} cmd/s`, '≥ 10,000 cmd/s', perSecond >= 10_000);
  line('pipeline, 32 commands in flight', `${Math.round(concurrent).toLocaleString('en-US')} cmd/s`, '≥ 10,000 cmd/s', concurrent >= 10_000);
  line('  bare SQLite autocommit insert (floor)', `${Math.round(floor).toLocaleString('en-US')} rows/s`);
  line('  pipeline / bare insert', `${(perSecond / floor).toFixed(2)}×`);
}

async function seedAudit(file: string) {
  const db = await openMigratedSqlite(file);
  const insert = db.prepare(
    `INSERT INTO audit (id, at, platform, user_id, user_name, channel, raw_text, command, args, cluster, outcome, error, trace_id, invocation_id, prev_hash, hash)
     VALUES (@id, @at, @platform, @user_id, @user_name, @channel, @raw_text, @command, @args, @cluster, @outcome, @error, @trace_id, @invocation_id, @prev_hash, @hash)`,
  );
  const clusters = Array.from({ length: 20 }, (_, i) => `cluster-${i}`);
  const commands = ['status', 'cluster disable', 'cluster enable', 'ratelimit set', 'breaker trip', 'audit search'];
  const start = Date.parse('2026-08-23T00:00:00Z'); // 90 days of history
  const step = (90 * 86_400_000) / AUDIT_RECORDS;
  let prev = GENESIS_HASH;
  const t0 = performance.now();
  const batch = db.transaction((from: number, to: number) => {
    for (let id = from; id < to; id++) {
      const cluster = clusters[id % clusters.length]!;
      const command = commands[id % commands.length]!;
      const row = toAuditRow(id, {
        at: new Date(start + id * step).toISOString(),
        platform: id % 2 ? 'slack' : 'discord',
        userId: `slack:U${(id * 7919) % 1000}`,
        userName: `user${(id * 7919) % 1000}`,
        channel: 'C0ALERTS',
        rawText: `${command} ${cluster} --reason "bench record ${id}"`,
        command,
        args: { cluster, reason: `bench record ${id}` },
        cluster,
        outcome: 'ok',
        traceId: `t${id}`,
        invocationId: `i${id}`,
      }, prev);
      insert.run(row);
      prev = row.hash;
    }
  });
  for (let from = 1; from <= AUDIT_RECORDS; from += 50_000) batch(from, Math.min(AUDIT_RECORDS + 1, from + 50_000));
  db.prepare('INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, ?, ?)').run(AUDIT_RECORDS, prev);
  db.close();
  return (performance.now() - t0) / 1000;
}

async function auditAtScale() {
  const file = join(dir, 'audit.db');
  const seeded = await seedAudit(file);
  line(`seeded ${AUDIT_RECORDS.toLocaleString('en-US')} chained audit records`, `${seeded.toFixed(1)} s`);
  const store = await createSqlStore({ db: createSqliteDb({ file }) });
  const end = Date.parse('2026-11-21T00:00:00Z');
  const samples = { userDay: [] as number[], userWeek: [] as number[], clusterDay: [] as number[], action: [] as number[], anyoneDay: [] as number[] };
  for (let i = 0; i < 600; i++) {
    const userId = `slack:U${(i * 37) % 1000}`;
    const dayStart = new Date(end - ((i * 13) % 80) * 86_400_000 - 86_400_000).toISOString();
    const time = async (bucket: number[], fn: () => Promise<unknown>) => {
      const t = performance.now();
      await fn();
      bucket.push(performance.now() - t);
    };
    await time(samples.userDay, () => store.searchAudit({ userId, since: dayStart, until: new Date(Date.parse(dayStart) + 86_400_000).toISOString(), limit: 20 }));
    await time(samples.userWeek, () => store.searchAudit({ userId, since: new Date(end - 7 * 86_400_000).toISOString(), limit: 20 }));
    await time(samples.clusterDay, () => store.searchAudit({ cluster: `cluster-${i % 20}`, since: dayStart, limit: 20 }));
    await time(samples.anyoneDay, () => store.searchAudit({ since: dayStart, until: new Date(Date.parse(dayStart) + 86_400_000).toISOString(), limit: 20 }));
    await time(samples.action, () => store.searchAudit({ command: 'cluster', userId, since: new Date(end - 30 * 86_400_000).toISOString(), limit: 50 }));
  }
  for (const [name, s] of Object.entries(samples)) {
    const r = summarize(s);
    const target = name.startsWith('user') ? '< 20 ms p95' : undefined;
    line(`audit search ${name}`, `p50 ${fmt(r.p50)} p95 ${fmt(r.p95)}`, target, r.p95 < 20);
  }
  const t0 = performance.now();
  const verified = await store.verifyAudit();
  const took = (performance.now() - t0) / 1000;
  line(`audit verify over ${verified.count.toLocaleString('en-US')} records`, `${took.toFixed(2)} s (${verified.ok ? 'intact' : 'BROKEN'})`, '< 5 s', took < 5 && verified.ok);
  await store.close();
}

try {
  await pipelineThroughput();
  await auditAtScale();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
