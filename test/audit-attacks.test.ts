/**
 * Attacks by an insider who can write the database (and the data directory) but holds neither the signing key
 * nor the checkpoint file outside the data directory. Each runs against a copy of a real data directory with
 * thousands of records written through the pipeline, checkpoints made as the bot makes them.
 */
import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, hashAuditRow, type AuditRow } from '../src/audit/audit-record.js';
import { signCheckpoint } from '../src/audit/checkpoint.js';
import { formatPublicKey, keyIdOf } from '../src/audit/signing-key.js';
import { createPublicKey, sign } from 'node:crypto';
import { checkpointLineOf } from '../src/audit/witness-file.js';
import { createTestApp, TEST_CONFIG, type TestApp } from './helpers/test-app.js';

const CONFIG = `${TEST_CONFIG}\naudit:\n  checkpoint: { records: 500 }\n`;
const root = mkdtempSync(join(tmpdir(), 'infrabot-attacks-'));
const keyDir = join(root, 'keys'); // outside every data directory below
const pristine = join(root, 'pristine');
const older = join(root, 'older');
let total = 0;

/** Realistic traffic: reads, changes, dangerous actions with confirmations, role grants, denials. */
async function traffic(app: TestApp, n: number, offset: number) {
  for (let i = offset; i < offset + n; i++) {
    const t = [
      () => app.run('status'),
      () => app.run(`ratelimit set api --per-minute ${100 + (i % 400)}`),
      () => app.run('cluster disable web --reason "deploy"', { as: 'local:otto' }),
      () => app.run(i % 2 ? 'cluster disable web --reason "deploy" --yes' : 'cluster enable web'),
      () => app.run(`role grant local:u${i % 50} viewer --cluster db`),
      () => app.run('whoami', { as: 'local:nobody' }),
      () => app.run('audit --limit 5'),
    ][i % 7]!;
    await t();
  }
}

async function openCopy(from: string): Promise<{ app: TestApp; dir: string }> {
  const dir = mkdtempSync(join(root, 'copy-'));
  cpSync(from, dir, { recursive: true });
  return { app: await createTestApp({ dir, keyDir, config: CONFIG }), dir };
}

const edit = (dir: string, fn: (db: Database.Database) => void) => {
  const db = new Database(join(dir, 'infrabot.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
};

/** What a careful attacker does after changing records: recompute every hash after them and the head. */
function recomputeChain(db: Database.Database) {
  const rows = db.prepare('SELECT * FROM audit ORDER BY id').all() as AuditRow[];
  const update = db.prepare('UPDATE audit SET user_id = @user_id, raw_text = @raw_text, prev_hash = @prev_hash, hash = @hash WHERE id = @id');
  let prev = GENESIS_HASH;
  db.transaction(() => {
    for (const r of rows) {
      r.prev_hash = prev;
      r.hash = hashAuditRow(prev, r);
      update.run(r);
      prev = r.hash;
    }
    db.prepare('UPDATE audit_head SET last_id = ?, last_hash = ?').run(rows.at(-1)!.id, prev);
  })();
}

beforeAll(async () => {
  const app = await createTestApp({ dir: pristine, keyDir, config: CONFIG });
  await app.run('role grant local:otto operator --cluster web');
  await traffic(app, 2000, 0);
  await app.audit.checkpointer.checkpoint();
  await app.close();
  cpSync(pristine, older, { recursive: true }); // a backup taken here, restored by the attacker later
  const again = await createTestApp({ dir: pristine, keyDir, config: CONFIG });
  await traffic(again, 1500, 2000);
  await again.audit.checkpointer.checkpoint(); // the bot seals its log when it stops
  total = (await again.store.verifyAudit()).count;
  await again.close();
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('audit attacks against a copy of a real data directory', () => {
  it('passes an untouched log, with every checkpoint confirmed by the checkpoint file outside the data directory', async () => {
    const { app } = await openCopy(pristine);
    const v = await app.audit.verify();
    expect(v.findings).toEqual([]);
    expect(v).toMatchObject({ ok: true, records: total, uncovered: 0 });
    expect(total).toBeGreaterThan(3000);
    expect(v.checkpoints).toBeGreaterThanOrEqual(7);
    expect(v.witnessed).toBe(v.checkpoints);
    expect((await app.run('audit verify')).title).toBe('✅ Audit log intact');
    await app.close();
  });

  /** The careful attacker: record 1234 changed, every hash after it and the head recomputed (and more, if asked). */
  async function rewriteRecord1234(alsoInDb?: (db: Database.Database) => void) {
    const { app, dir } = await openCopy(pristine);
    const before = (await app.store.checkpoints()).filter((c) => c.lastId < 1234).at(-1)!.lastId;
    await app.close();
    edit(dir, (db) => {
      db.prepare("UPDATE audit SET user_id = 'local:scapegoat' WHERE id = 1234").run();
      recomputeChain(db);
      alsoInDb?.(db);
    });
    const { app: reopened } = await openCopy(dir);
    return { reopened, before, v: await reopened.audit.verify() };
  }

  it('detects a changed record even when the whole chain and head were recomputed, naming the record', async () => {
    const { reopened, before, v } = await rewriteRecord1234();
    expect(await reopened.store.verifyAudit()).toMatchObject({ ok: true }); // the old chain check alone is fooled
    expect(v.ok).toBe(false);
    // Named exactly: the chain hashes the signed checkpoint recorded for its records still hold (checked against
    // its signed root), and record 1234 is the first that differs.
    expect(v.findings[0]).toMatchObject({ firstRecord: 1234 });
    // Caught twice: by the signed checkpoint in the database, and by the checkpoint file the attacker cannot reach.
    expect(v.findings.map((f) => f.message)).toContainEqual(expect.stringMatching(/^record 1234 is not the one checkpoint #\d+ signed .*: witnessed checkpoint/));
    expect(before).toBeGreaterThan(700);
    const chat = await reopened.run('audit verify');
    expect(chat).toMatchObject({ title: '❌ Audit log does not verify', text: expect.stringContaining('from record 1234') });
    await reopened.close();
  });

  it('still names the range when the attacker also wiped what the checkpoints recorded', async () => {
    const { reopened, before, v } = await rewriteRecord1234((db) => db.prepare('UPDATE audit_checkpoints SET leaves = NULL').run());
    // Checkpoints every ~500 records: those before record 1234 still hold; the change is after the last of them.
    expect(v.findings[0]).toMatchObject({ firstRecord: before + 1 });
    expect(v.findings.map((f) => f.message)).toContainEqual(expect.stringMatching(new RegExp(`^records after ${before} were rewritten: witnessed checkpoint`)));
    await reopened.close();
  });

  it('detects the last 100 records deleted and the head fixed', async () => {
    const { app, dir } = await openCopy(pristine);
    await app.close();
    edit(dir, (db) => {
      db.prepare('DELETE FROM audit WHERE id > ?').run(total - 100);
      db.prepare('DELETE FROM events WHERE audit_id > ?').run(total - 100);
      const last = db.prepare('SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string };
      db.prepare('UPDATE audit_head SET last_id = ?, last_hash = ?').run(last.id, last.hash);
      db.prepare('DELETE FROM audit_checkpoints WHERE last_id > ?').run(last.id); // hide the evidence in the database too
    });
    const { app: reopened } = await openCopy(dir);
    const v = await reopened.audit.verify();
    expect(v.ok).toBe(false);
    expect(v.findings[0]).toMatchObject({ firstRecord: total - 99, message: expect.stringContaining('older database restored') });
    await reopened.close();
  });

  it('detects the database replaced with an older copy', async () => {
    const { app } = await openCopy(older);
    const v = await app.audit.verify();
    expect(v.ok).toBe(false);
    const olderCount = v.records;
    expect(olderCount).toBeLessThan(total);
    expect(v.findings[0]).toMatchObject({ firstRecord: olderCount + 1, message: expect.stringMatching(/records \d+–\d+ are missing/) });
    await app.close();
  });

  it('detects a role grant added directly to the stored state, and an event slipped in under an existing record', async () => {
    const { app, dir } = await openCopy(pristine);
    await app.close();
    edit(dir, (db) => {
      const { doc } = db.prepare('SELECT doc FROM control_state').get() as { doc: string };
      const state = JSON.parse(doc);
      state.grants.push({ subject: 'local:mallory', role: 'admin' });
      db.prepare('UPDATE control_state SET doc = ?').run(JSON.stringify(state));
    });
    const { app: reopened, dir: dir2 } = await openCopy(dir);
    const v = await reopened.audit.verify();
    expect(v.ok).toBe(false);
    expect(v.findings.map((f) => f.message).join('\n')).toContain('role grant {"role":"admin","subject":"local:mallory"} is in the stored state but no event granted it');
    await reopened.close();

    // The careful version: a matching event too, attributed to an existing record.
    edit(dir2, (db) => {
      const seq = (db.prepare('SELECT MAX(seq) FROM events').pluck().get() as number) + 1;
      db.prepare("INSERT INTO events (seq, at, actor, scope, type, data, audit_id) VALUES (?, '2026-11-21T03:00:00.000Z', 'local:root-admin', 'global', 'role.granted', ?, 42)").run(
        seq, JSON.stringify({ type: 'role.granted', subject: 'local:mallory', role: 'admin' }));
      const { doc } = db.prepare('SELECT doc FROM control_state').get() as { doc: string };
      db.prepare('UPDATE control_state SET seq = ?, doc = ?').run(seq, JSON.stringify({ ...JSON.parse(doc), seq }));
    });
    const { app: third } = await openCopy(dir2);
    const v2 = await third.audit.verify();
    expect(v2.findings[0]).toMatchObject({ firstRecord: 42, message: expect.stringContaining('control events it wrote were changed') });
    await third.close();
  });

  it('detects checkpoints forged with another key, in the database and in the checkpoint file', async () => {
    const { app, dir } = await openCopy(pristine);
    const genuine = await app.store.checkpoints();
    await app.close();
    // The attacker rewrites record 1234, recomputes the chain and re-signs every checkpoint with a key of their own.
    const { privateKey } = generateKeyPairSync('ed25519');
    const publicKey = formatPublicKey(createPublicKey(privateKey));
    const forger = { keyId: keyIdOf(publicKey), publicKey, source: 'attacker', sign: (t: string) => sign(null, Buffer.from(t), privateKey).toString('base64url') };
    edit(dir, (db) => {
      db.prepare("UPDATE audit SET user_id = 'local:scapegoat' WHERE id = 1234").run();
      recomputeChain(db);
      const hashes = db.prepare('SELECT hash FROM audit ORDER BY id').pluck().all() as string[];
      db.prepare('DELETE FROM audit_checkpoints').run();
      let prev = GENESIS_HASH;
      genuine.forEach((g, i) => {
        const cp = signCheckpoint({ seq: g.seq, lastId: g.lastId, chainHash: hashes[g.lastId - 1]!, root: g.root, count: g.count, at: g.at, prev }, forger);
        db.prepare('INSERT INTO audit_checkpoints (seq, last_id, statement, hash, key_id, signature, frontier) VALUES (?, ?, ?, ?, ?, ?, ?)').run(cp.seq, cp.lastId, cp.statement, cp.hash, cp.keyId, cp.signature, '[]');
        prev = cp.hash;
        if (i === genuine.length - 1) appendFileSync(join(root, 'forged-witness.jsonl'), JSON.stringify(checkpointLineOf(cp, publicKey)) + '\n');
      });
    });
    const { app: reopened } = await openCopy(dir);
    const v = await reopened.audit.verify();
    expect(v.ok).toBe(false);
    const messages = v.findings.map((f) => f.message).join('\n');
    expect(messages).toContain(`checkpoint #1 in the database (records 1–500): it is signed by key ${forger.keyId}, which is not a trusted audit key`);
    expect(v.findings[0]!.firstRecord).toBe(1);
    // A checkpoint file holding the forged checkpoint: refused for its key, whatever the database says.
    const forgedWitness = await reopened.audit.verify({ witnessFile: join(root, 'forged-witness.jsonl') });
    expect(forgedWitness.findings.map((f) => f.message).join('\n')).toMatch(/witnessed checkpoint #\d+ \(.*forged-witness.jsonl\): it is signed by key .* not a trusted audit key/);
    await reopened.close();
  });

  it('reports a fork: a backup restored on another host that went its own way with its own checkpoint', async () => {
    const { app } = await openCopy(older);
    const sealed = (await app.store.latestCheckpoint())!;
    await app.close();
    // The other host has the real key (copied with the backup) but its own checkpoint file.
    const otherKeys = join(root, 'other-host-keys');
    cpSync(keyDir, otherKeys, { recursive: true });
    rmSync(join(otherKeys, 'checkpoints.jsonl'));
    const dir = mkdtempSync(join(root, 'fork-'));
    cpSync(older, dir, { recursive: true });
    const forked = await createTestApp({ dir, keyDir: otherKeys, config: CONFIG });
    await traffic(forked, 600, 0);
    await forked.audit.checkpointer.checkpoint();
    const v = await forked.audit.verify({ witnessFile: join(keyDir, 'checkpoints.jsonl') });
    expect(v.ok).toBe(false);
    expect(v.findings[0]).toMatchObject({ firstRecord: sealed.lastId + 1, message: expect.stringContaining(`fork at checkpoint #${sealed.seq + 1}`) });
    await forked.close();
  });
});
