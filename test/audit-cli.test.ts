import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { exportPrivateKey } from '../src/audit/signing-key.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';
import { runCli as cli } from './helpers/run-cli.js';
import { TEST_CONFIG } from './helpers/test-app.js';

let dir: string;
afterEach(() => {
  delete process.env.INFRABOT_KEY_DIR;
  delete process.env.INFRABOT_AUDIT_KEY;
  rmSync(dir, { recursive: true, force: true });
});

/** A config and data directory, with the audit key directory beside (not inside) the data directory. */
function setup(extra = '') {
  dir = mkdtempSync(join(tmpdir(), 'infrabot-audit-cli-'));
  writeFileSync(join(dir, 'config.yaml'), TEST_CONFIG + extra);
  process.env.INFRABOT_KEY_DIR = join(dir, 'keys');
  return ['--config', join(dir, 'config.yaml'), '--data-dir', join(dir, 'data')];
}


/** The CLI in its own process with an empty working directory and no infrabot environment: another machine. */
function elsewhere(args: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), 'infrabot-elsewhere-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFRABOT_')));
  const tsx = pathToFileURL(join(PACKAGE_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const r = spawnSync(process.execPath, ['--import', tsx, join(PACKAGE_ROOT, 'test/helpers/cli-entry.ts'), ...args], { cwd, env, encoding: 'utf8' });
  const files = readdir(cwd);
  rmSync(cwd, { recursive: true, force: true });
  return { code: r.status, out: r.stdout, err: r.stderr, files };
}
const readdir = (d: string) => (existsSync(d) ? (spawnSync('ls', ['-A', d], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean)) : []);

describe('audit signing key', () => {
  it('is created on first start outside the data directory, owner-only, and stays the same', async () => {
    const opts = setup();
    const first = await cli(['audit', 'pubkey', ...opts]);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^ed25519:[A-Za-z0-9_-]{43}\n$/);
    expect(statSync(join(dir, 'keys', 'audit-signing.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    expect((await cli(['audit', 'pubkey', ...opts])).out).toBe(first.out);
  });

  it('refuses to start on a key file others can read, or a key directory inside the data directory', async () => {
    const opts = setup();
    await cli(['audit', 'pubkey', ...opts]);
    chmodSync(join(dir, 'keys', 'audit-signing.key'), 0o644);
    const loose = await cli(['run', 'status', ...opts]);
    expect(loose.code).toBe(78);
    expect(loose.err).toContain(`${join(dir, 'keys', 'audit-signing.key')} has mode 0644`);
    expect(loose.err).toContain('chmod 600');
    expect(loose.out).toBe('');

    process.env.INFRABOT_KEY_DIR = join(dir, 'data', 'keys');
    const inside = await cli(['run', 'status', ...opts]);
    expect(inside.code).toBe(78);
    expect(inside.err).toContain('is inside the data directory');

    writeFileSync(join(dir, 'not-a-dir'), '');
    process.env.INFRABOT_KEY_DIR = join(dir, 'not-a-dir', 'keys');
    const blocked = await cli(['run', 'status', ...opts]);
    expect(blocked).toMatchObject({ code: 78, err: expect.stringContaining(`cannot use the audit key directory ${join(dir, 'not-a-dir', 'keys')} (ENOTDIR`) });
  });

  it('comes from INFRABOT_AUDIT_KEY in containers, and rotation then prints the new key to install', async () => {
    const opts = setup();
    const { privateKey } = generateKeyPairSync('ed25519');
    process.env.INFRABOT_AUDIT_KEY = exportPrivateKey(privateKey);
    const pub = await cli(['audit', 'pubkey', ...opts]);
    expect(pub.err).toContain('from INFRABOT_AUDIT_KEY');
    expect(existsSync(join(dir, 'keys', 'audit-signing.key'))).toBe(false);
    await cli(['run', 'status', ...opts]);
    const rotated = await cli(['audit', 'rotate-key', ...opts]);
    expect(rotated.out).toContain('set INFRABOT_AUDIT_KEY to this new private key');
    process.env.INFRABOT_AUDIT_KEY = rotated.out.trim().split('\n').at(-1)!;
    expect((await cli(['audit', 'pubkey', ...opts])).out).not.toBe(pub.out);
    expect((await cli(['audit', 'verify', ...opts])).code).toBe(0); // the old key's checkpoint is trusted through the rotation
  });

  it('rotates: the old key signs the new one, old checkpoints still verify, new ones are signed by the new key', async () => {
    const opts = setup();
    await cli(['run', 'status', ...opts]);
    const oldKey = (await cli(['audit', 'pubkey', ...opts])).out.trim();
    const rotated = await cli(['audit', 'rotate-key', ...opts]);
    expect(rotated.code).toBe(0);
    const newKey = (await cli(['audit', 'pubkey', ...opts])).out.trim();
    expect(newKey).not.toBe(oldKey);
    expect(rotated.out).toContain(`new public key: ${newKey}`);
    await cli(['run', 'whoami', ...opts]);
    await cli(['audit', 'checkpoint', ...opts]);
    const v = await cli(['audit', 'verify', ...opts]);
    expect(v).toMatchObject({ code: 0, out: expect.stringContaining('2 signed checkpoints (2 confirmed by the witness)') });
    const lines = readFileSync(join(dir, 'keys', 'checkpoints.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['checkpoint', 'key-rotation', 'checkpoint']);
    expect(lines[1]).toMatchObject({ oldPublicKey: oldKey, newPublicKey: newKey });
  });
});

describe('audit checkpoints, proofs and reports', () => {
  it('refuses to checkpoint over an edited log with one clear line', async () => {
    const opts = setup();
    await cli(['run', 'status', ...opts]);
    const db = new Database(join(dir, 'data', 'infrabot.db'));
    db.prepare("UPDATE audit SET raw_text = 'whoami' WHERE id = 1").run();
    db.close();
    const r = await cli(['audit', 'checkpoint', ...opts]);
    expect(r).toMatchObject({ code: 1, err: 'infrabot audit checkpoint: audit record 1 fails: its contents do not match its hash (the record was changed); run "infrabot audit verify"\n' });
  });

  it('reports a checkpoint file it cannot read instead of crashing', async () => {
    const opts = setup();
    await cli(['run', 'status', ...opts]);
    const r = await cli(['audit', 'verify', '--witness', dir, ...opts]);
    expect(r).toMatchObject({ code: 1, err: expect.stringContaining(`cannot read the checkpoint file ${dir} (EISDIR)`) });
  });

  it('proves a record to another process that holds only the public key; a tampered proof or another key fails', async () => {
    const opts = setup();
    await cli(['run', 'cluster disable api --reason "bad deploy" --yes', ...opts]);
    await cli(['run', 'whoami', ...opts]);
    expect((await cli(['audit', 'prove', '1', ...opts])).err).toContain('not covered by a signed checkpoint yet');
    await cli(['audit', 'checkpoint', ...opts]);
    const proofFile = join(dir, 'proof.json');
    const proved = await cli(['audit', 'prove', '1', '--output', proofFile, ...opts]);
    expect(proved.code).toBe(0);
    const pubkey = (await cli(['audit', 'pubkey', ...opts])).out.trim();

    const ok = elsewhere(['audit', 'check-proof', proofFile, '--pubkey', pubkey]);
    expect(ok.err).toBe('');
    expect(ok).toMatchObject({ code: 0, files: [] }); // no data directory or database was created there
    expect(ok.out).toMatch(/^proof valid: record 1 is in the audit log signed by key [0-9a-f]{16}\n.*local:\S+ on cli: cluster disable api --reason "bad deploy" --yes/);

    const proof = JSON.parse(readFileSync(proofFile, 'utf8'));
    proof.fields[3] = 'local:someone-else';
    writeFileSync(join(dir, 'tampered.json'), JSON.stringify(proof));
    const tampered = elsewhere(['audit', 'check-proof', join(dir, 'tampered.json'), '--pubkey', pubkey]);
    expect(tampered).toMatchObject({ code: 1, err: expect.stringContaining('proof INVALID: record 1 as given is not in the log') });

    const otherKey = `ed25519:${Buffer.alloc(32, 7).toString('base64url')}`;
    const wrongKey = elsewhere(['audit', 'check-proof', proofFile, '--pubkey', otherKey]);
    expect(wrongKey).toMatchObject({ code: 1, err: expect.stringContaining('not a trusted audit key') });
    const nonsense = elsewhere(['audit', 'check-proof', proofFile, '--pubkey', 'nonsense']);
    expect(nonsense).toMatchObject({ code: 64, err: expect.stringMatching(/^infrabot audit check-proof: --pubkey "nonsense" is not an Ed25519 public key \(it does not start with ed25519:\)[^\n]*\n$/) });
    expect(nonsense.err).not.toMatch(/error:|DECODER/);

    // Global options go anywhere, as with every other audit subcommand (they mean nothing to check-proof).
    const dataDir = opts[opts.indexOf('--data-dir') + 1]!;
    for (const args of [
      ['--data-dir', dataDir, 'audit', 'check-proof', proofFile, '--pubkey', pubkey],
      ['audit', 'check-proof', proofFile, '--pubkey', pubkey, '--data-dir', dataDir],
      ['audit', '--config', opts[1]!, 'check-proof', proofFile, '--pubkey', pubkey],
    ]) {
      const r = await cli(args);
      expect(r.err).toBe('');
      expect(r).toMatchObject({ code: 0, out: expect.stringMatching(/^proof valid: record 1 /) });
    }
    // A mistyped option is one line in our words, never Node's parseArgs text.
    const typo = await cli(['audit', 'check-proof', proofFile, '--pubkey', pubkey, '--dat-dir', dataDir]);
    expect(typo).toMatchObject({ code: 64, err: 'infrabot: unknown option --dat-dir. See infrabot --help.\n' });
    expect((await cli(['audit', 'check-proof', proofFile, 'again.json', '--pubkey', pubkey])).err).toMatch(/^infrabot audit check-proof: one proof file at a time, not also "again.json"; usage: [^\n]*\n$/);
  }, 90_000);

  it('counts the records verified before the first problem, and refuses a malformed --pubkey as a usage error', async () => {
    const opts = setup();
    for (let i = 0; i < 5; i++) await cli(['run', 'status', ...opts]);
    const bad = await cli(['audit', 'verify', '--pubkey', 'bad', ...opts]);
    expect(bad).toMatchObject({ code: 64, out: '' });
    expect(bad.err).toMatch(/^infrabot audit verify: --pubkey "bad" is not an Ed25519 public key \([^)]*\); expected ed25519:<base64url>[^\n]*\n$/);
    expect(bad.err).not.toMatch(/error:|DECODER/);
    const short = await cli(['audit', 'verify', '--pubkey', 'ed25519:abc', ...opts]);
    expect(short).toMatchObject({ code: 64, err: expect.stringContaining('"ed25519:abc" is not an Ed25519 public key (not 32 bytes of base64url)') });

    const db = new Database(join(dir, 'data', 'infrabot.db'));
    db.prepare("UPDATE audit SET raw_text = 'whoami' WHERE id = 3").run();
    db.close();
    const v = await cli(['audit', 'verify', ...opts]);
    expect(v.code).toBe(1);
    expect(v.err).toContain('audit log BROKEN: 1 problem (2 records verified before the first)');
    expect(v.err).toContain('[first record affected: 3]');
  });

  it('reports API keys and role grants with their role, confirmed changes as changes, refusals apart, and the global kill-switch under a cluster', async () => {
    const opts = setup();
    await cli(['run', 'apikey create adm --role admin', ...opts]);
    await cli(['run', 'apikey create ci --role operator --cluster api', ...opts]);
    await cli(['run', 'apikey revoke ci', ...opts]);
    await cli(['run', 'cluster disable api --reason "bad deploy" --yes', ...opts]);
    await cli(['run', 'breaker trip api --reason "errors everywhere" --yes', ...opts]);
    await cli(['run', 'killswitch on --reason "stop everything" --yes', ...opts]);
    await cli(['run', 'killswitch off --reason "all clear"', ...opts]);
    const invalid = await cli(['run', 'cluster disable api --reason "again" --for 0m --yes', ...opts]);
    expect(invalid.code).toBe(2);

    const md = (await cli(['audit', 'report', ...opts])).out;
    const section = (title: string) => md.slice(md.indexOf(`## ${title}`), md.indexOf('\n## ', md.indexOf(`## ${title}`) + 3));
    expect(section('Role changes')).toMatch(/^## Role changes \(3\)/);
    expect(section('Role changes')).toContain('API key adm created: admin on every cluster');
    expect(section('Role changes')).toContain('API key ci created: operator on api');
    expect(section('Role changes')).toContain('API key ci revoked (was operator on api)');
    const changes = section('Changes');
    expect(changes).toMatch(/^## Changes \(4\)/);
    for (const c of ['cluster disable api', 'breaker trip api', 'killswitch on', 'killswitch off']) expect(changes).toContain(c);
    expect(changes).not.toContain('--for 0m');
    expect(section('Dangerous actions')).not.toContain('0m');
    expect(section('Refused and failed attempts')).toMatch(/^## Refused and failed attempts \(1\)[\s\S]*--for 0m/);

    const api = (await cli(['audit', 'report', '--cluster', 'api', ...opts])).out;
    expect(api).toContain('## Changes (4)');
    expect(api).toContain('killswitch on --reason');
    // Keys scoped to api are api's role changes; a key on every cluster is not reported under one cluster.
    expect(api).toMatch(/## Role changes \(2\)[\s\S]*API key ci created[\s\S]*API key ci revoked/);
  });

  it('checkpoints every N records on its own, into the database, the checkpoint file and the log, and exports them', async () => {
    const opts = setup('audit:\n  checkpoint: { records: 3 }\n');
    for (let i = 0; i < 7; i++) await cli(['run', 'status', ...opts]);
    const exported = await cli(['audit', 'checkpoints', 'export', ...opts]);
    const lines = exported.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(2);
    expect(lines.map((l) => JSON.parse(l.statement))).toMatchObject([{ seq: 1, lastId: 3 }, { seq: 2, lastId: 6 }]);
    expect(readFileSync(join(dir, 'keys', 'checkpoints.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).hash)).toEqual(lines.map((l) => l.hash));
    expect(readFileSync(join(dir, 'data', 'infrabot.log'), 'utf8')).toContain(`"hash":"${lines[1].hash}"`);
    // The log, as shipped to a SIEM, is a witness of its own.
    const fromLog = await cli(['audit', 'verify', '--witness', join(dir, 'data', 'infrabot.log'), ...opts]);
    expect(fromLog).toMatchObject({ code: 0, out: expect.stringContaining('2 signed checkpoints (2 confirmed by the witness)') });
  });

  it('writes the compliance report as Markdown and CSV', async () => {
    const opts = setup();
    await cli(['run', 'role grant local:otto operator --cluster api', ...opts]);
    await cli(['run', 'cluster disable api --reason "bad deploy"', '--as', 'otto', ...opts]);
    await cli(['run', 'cluster disable api --reason "bad deploy" --yes', '--as', 'otto', ...opts]);
    await cli(['run', 'cluster disable web --reason "not mine" --yes', '--as', 'otto', ...opts]);
    await cli(['run', 'ratelimit set api --per-minute 50', ...opts]);
    const md = await cli(['audit', 'report', '--since', '1h', ...opts]);
    expect(md.code).toBe(0);
    expect(md.out).toContain('**Verification:** ✅ intact');
    expect(md.out).toMatch(/## Changes \(2\)[\s\S]*cluster disable api --reason "bad deploy" --yes[\s\S]*ratelimit set api/);
    expect(md.out).toMatch(/## Dangerous actions and confirmations \(2\)[\s\S]*asked for confirmation: Disabling cluster api[\s\S]*confirmed and run: Disabling cluster api/);
    expect(md.out).toMatch(/## Role changes \(1\)[\s\S]*role grant local:otto operator --cluster api/);
    expect(md.out).toMatch(/## Denials by user \(1\)[\s\S]*\| local:otto \| 1 \|/);
    const csv = await cli(['audit', 'report', '--format', 'csv', '--cluster', 'api', ...opts]);
    expect(csv.out.split('\r\n')[0]).toBe('section,time,record,user,run_by,platform,cluster,command,outcome,detail');
    expect(csv.out).toMatch(/"dangerous action","[^"]+","3","local:otto","local:[^"]+","cli","api"/);
    expect((await cli(['audit', 'report', '--since', 'tomorrowish', ...opts])).err).toContain('--since "tomorrowish" is not a time');
  });
});

describe('--as', () => {
  it('refuses an empty or malformed user id instead of running as the admin', async () => {
    const opts = setup();
    const empty = await cli(['run', 'role grant local:x admin', '--as', '', ...opts]);
    expect(empty).toMatchObject({ code: 64, err: expect.stringContaining('--as "": give the user id to run as') });
    const spaced = await cli(['run', 'status', '--as', 'Bob Smith', ...opts]);
    expect(spaced).toMatchObject({ code: 64, err: expect.stringContaining('"local:Bob Smith" is not a local user name') });
    expect(existsSync(join(dir, 'data', 'infrabot.db'))).toBe(false); // refused before anything was opened
  });

  it('records the real OS user in its own hashed field', async () => {
    const opts = setup();
    await cli(['run', 'status', '--as', 'mallory', ...opts]);
    const exported = JSON.parse((await cli(['audit', 'export', ...opts])).out.trim());
    expect(exported).toMatchObject({ userId: 'local:mallory', runBy: expect.stringMatching(/^local:\S+$/) });
    const db = new Database(join(dir, 'data', 'infrabot.db'));
    db.prepare("UPDATE audit SET run_by = 'local:mallory' WHERE id = 1").run();
    db.close();
    expect((await cli(['audit', 'verify', ...opts])).err).toContain('record 1: its contents do not match its hash');
  });
});
