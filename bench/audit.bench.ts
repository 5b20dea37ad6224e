/**
 * Audit figures: what signed checkpoints cost the command pipeline (same mix, checkpoints every 1,000
 * records vs none, interleaved in the same run), the full verification over 1,000,000 records with a
 * checkpoint every 1,000 and a witness file (against the bare chain walk, the peer measured in the same
 * run), and the size and check time of a record proof.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS_HASH, hashEvents, toAuditRow } from '../src/audit/audit-record.js';
import { FIRST_PREV, signCheckpoint } from '../src/audit/checkpoint.js';
import { MerkleFrontier } from '../src/audit/merkle.js';
import { checkRecordProof, proveRecord } from '../src/audit/record-proof.js';
import { loadSigningKey } from '../src/audit/signing-key.js';
import { verifyAuditLog } from '../src/audit/verify-audit-log.js';
import { appendWitness, checkpointLineOf, readWitness } from '../src/audit/witness-file.js';
import { createSqliteDb } from '../src/store/db/sqlite-db.js';
import { createSqlStore } from '../src/store/sql-store.js';
import { createTestApp, TEST_CONFIG } from '../test/helpers/test-app.js';
import { fmt, line, openMigratedSqlite, summarize } from './stats.js';

const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-audit-'));
const AUDIT_RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 1_000_000);
const EVERY = 1000;

async function checkpointCost() {
  const withCp = await createTestApp({ dir: join(dir, 'with'), config: `${TEST_CONFIG}\naudit: { checkpoint: { records: ${EVERY} } }\n` });
  const without = await createTestApp({ dir: join(dir, 'without'), config: `${TEST_CONFIG}\naudit: { checkpoint: { records: 1000000 } }\n` });
  const mix = ['status', 'ratelimit show api', 'whoami', 'ratelimit set api --per-minute 500', 'ratelimit set api --per-minute 501', 'breaker show'];
  const cpu = { with: 0, without: 0 };
  const run = async (app: typeof withCp, n: number) => {
    const t = performance.now();
    const c = process.cpuUsage();
    for (let i = 0; i < n; i++) await app.run(mix[i % mix.length]!);
    const used = process.cpuUsage(c);
    cpu[app === withCp ? 'with' : 'without'] += used.user + used.system;
    return performance.now() - t;
  };
  await run(withCp, 2000);
  await run(without, 2000);
  cpu.with = cpu.without = 0;
  // Interleaved rounds, so drift in machine load hits both alike.
  const times = { with: 0, without: 0 };
  const ROUND = 5000;
  for (let round = 0; round < 6; round++) {
    times.without += await run(without, ROUND);
    times.with += await run(withCp, ROUND);
  }
  const n = 6 * ROUND;
  const cpuOverhead = cpu.with / cpu.without - 1;
  const made = (await withCp.store.checkpoints()).length;
  // One checkpoint over 1,000 fresh records, timed on its own (in the app that makes none by itself).
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await run(without, EVERY);
    const t = performance.now();
    await without.audit.checkpointer.checkpoint();
    samples.push(performance.now() - t);
  }
  await withCp.close();
  await without.close();
  const overhead = times.with / times.without - 1;
  line('pipeline without checkpoints', `${Math.round(n / (times.without / 1000)).toLocaleString('en-US')} cmd/s`);
  line(`pipeline with a checkpoint every ${EVERY} (${made} made)`, `${Math.round(n / (times.with / 1000)).toLocaleString('en-US')} cmd/s`);
  line('  checkpoint cost on pipeline throughput', `${(overhead * 100).toFixed(1)} % wall, ${(cpuOverhead * 100).toFixed(1)} % CPU`, '< 5 %', overhead < 0.05);
  const one = summarize(samples).p50;
  line(`  one checkpoint over ${EVERY} records`, `p50 ${fmt(one)}`);
  // The steadier figure on a busy machine: a checkpoint's own time against the commands it covers.
  const share = one / (EVERY * (times.without / n));
  line(`  that checkpoint / the ${EVERY} commands it covers`, `${(share * 100).toFixed(1)} %`, '< 5 %', share < 0.05);
}

/** 1M chained records as the store writes them, a signed checkpoint every 1,000, witnessed in a file. */
async function seed(file: string, witnessFile: string, key: ReturnType<typeof loadSigningKey>) {
  const db = await openMigratedSqlite(file);
  const insert = db.prepare(
    `INSERT INTO audit (id, at, platform, user_id, user_name, channel, raw_text, command, args, cluster, outcome, error, trace_id, invocation_id, events_hash, run_by, prev_hash, hash)
     VALUES (@id, @at, @platform, @user_id, @user_name, @channel, @raw_text, @command, @args, @cluster, @outcome, @error, @trace_id, @invocation_id, @events_hash, @run_by, @prev_hash, @hash)`,
  );
  const insertCp = db.prepare('INSERT INTO audit_checkpoints (seq, last_id, statement, hash, key_id, signature, frontier) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const noEvents = hashEvents([]);
  const start = Date.parse('2026-08-23T00:00:00Z');
  const step = (90 * 86_400_000) / AUDIT_RECORDS;
  const frontier = new MerkleFrontier();
  let prev = GENESIS_HASH;
  let prevCp = FIRST_PREV;
  const t0 = performance.now();
  const batch = db.transaction((from: number, to: number) => {
    for (let id = from; id < to; id++) {
      const cluster = `cluster-${id % 20}`;
      const row = toAuditRow(id, {
        at: new Date(start + id * step).toISOString(), platform: 'slack', userId: `slack:U${(id * 7919) % 1000}`, userName: `user${(id * 7919) % 1000}`,
        channel: 'C0ALERTS', rawText: `cluster disable ${cluster} --reason "bench record ${id}"`, command: 'cluster disable',
        args: { cluster, reason: `bench record ${id}` }, cluster, outcome: 'ok', traceId: `t${id}`, invocationId: `i${id}`, eventsHash: noEvents,
      }, prev);
      insert.run(row);
      prev = row.hash;
      frontier.append(row.hash);
      if (id % EVERY === 0) {
        const cp = signCheckpoint({ seq: id / EVERY, lastId: id, chainHash: prev, root: frontier.root(), count: id, at: row.at, prev: prevCp }, key);
        insertCp.run(cp.seq, cp.lastId, cp.statement, cp.hash, cp.keyId, cp.signature, JSON.stringify(frontier.nodes));
        appendWitness(witnessFile, checkpointLineOf(cp, key.publicKey));
        prevCp = cp.hash;
      }
    }
  });
  for (let from = 1; from <= AUDIT_RECORDS; from += 50_000) batch(from, Math.min(AUDIT_RECORDS + 1, from + 50_000));
  db.prepare('INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, ?, ?)').run(AUDIT_RECORDS, prev);
  db.close();
  return (performance.now() - t0) / 1000;
}

async function verifyAndProve() {
  const key = loadSigningKey({ keyDir: join(dir, 'keys'), dataDir: join(dir, 'data'), env: {} });
  const file = join(dir, 'data', 'audit.db');
  const witnessFile = join(dir, 'keys', 'checkpoints.jsonl');
  const seeded = await seed(file, witnessFile, key);
  line(`seeded ${AUDIT_RECORDS.toLocaleString('en-US')} records, a checkpoint every ${EVERY}`, `${seeded.toFixed(1)} s`);
  const store = await createSqlStore({ db: createSqliteDb({ file }) });

  // Wall time and this process's CPU time: on a shared machine the CPU time is the steadier figure.
  const timed = async <T>(fn: () => Promise<T>) => {
    const c = process.cpuUsage();
    const t = performance.now();
    const result = await fn();
    const cpu = process.cpuUsage(c);
    return { result, wall: (performance.now() - t) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
  };
  const bare = await timed(() => store.verifyAudit());
  const full = await timed(() => verifyAuditLog({ store, anchors: [key.publicKey], witness: { source: witnessFile, contents: readWitness(witnessFile) } }));
  line('  hash chain walk alone (peer)', `${bare.wall.toFixed(2)} s, CPU ${bare.cpu.toFixed(2)} s (${bare.result.ok ? 'intact' : 'BROKEN'})`);
  line(`audit verify, ${full.result.checkpoints} checkpoints, witness, replay`, `${full.wall.toFixed(2)} s, CPU ${full.cpu.toFixed(2)} s (${full.result.ok ? 'intact' : 'BROKEN'})`, '< 5 s', full.wall < 5 && full.result.ok);
  line('  full verify / chain walk', `${(full.wall / bare.wall).toFixed(2)}× wall, ${(full.cpu / bare.cpu).toFixed(2)}× CPU`);

  let t = performance.now();
  const id = Math.floor(AUDIT_RECORDS / 2) + 7;
  t = performance.now();
  const { proof } = await proveRecord(store, id);
  const proveMs = performance.now() - t;
  const text = JSON.stringify(proof);
  const checks: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    const r = checkRecordProof(JSON.parse(text), [key.publicKey]);
    checks.push(performance.now() - s);
    if (!r.ok) throw new Error(`bench proof failed: ${r.problem}`);
  }
  line(`proof of record ${id.toLocaleString('en-US')}`, `${text.length.toLocaleString('en-US')} bytes, ${proof.path.length} hashes`);
  line('  building it (reads the tree from the database)', fmt(proveMs));
  line('  checking it with the public key only', `p50 ${fmt(summarize(checks).p50)}`);
  await store.close();
}

try {
  await checkpointCost();
  await verifyAndProve();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
