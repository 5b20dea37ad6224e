import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../src/audit/audit-record.js';
import type { Reply } from '../../src/framework/reply.js';
import { createSqliteDb } from '../../src/store/db/sqlite-db.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let dir: string | undefined;
let app: TestApp | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
  if (dir) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}-keys`, { recursive: true, force: true });
  }
  dir = undefined;
});

const audit = (n: number): AuditDraft => ({
  at: new Date(Date.UTC(2026, 10, 21, 3, 0, n)).toISOString(), platform: 'console', userId: 'local:a', userName: 'a',
  rawText: `status ${n}`, command: 'status', outcome: 'ok', traceId: `t${n}`, invocationId: `i${n}`,
});
const reply = { title: 'ok' } as Reply;

describe('SQLite durability', () => {
  it('syncs every commit to disk (synchronous=FULL) on the database the app opens', async () => {
    app = await createTestApp();
    // 2 = FULL: the WAL is synced before a commit returns, so an answered command survives a power loss.
    expect(app.db!.pragma('synchronous', { simple: true })).toBe(2);
    expect(app.db!.pragma('journal_mode', { simple: true })).toBe('wal');
    const status = await app.run('status');
    expect(status.text).toContain('Store: embedded SQLite');
    expect(status.data).toMatchObject({ store: 'sqlite' });
  });

  it('fails the commits of a batch that cannot get the write lock, keeps none of them, and recovers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'infrabot-store-'));
    const file = join(dir, 'x.db');
    const store = await createSqlStore({ db: createSqliteDb({ file, busyTimeoutMs: 50 }) });
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
    await expect(store.commit({ expectedSeq: 0, events: [], audit: audit(1), invocationKey: 'k1', reply })).rejects.toThrow(/locked|busy/i);
    other.exec('ROLLBACK');
    other.close();
    expect((await store.commit({ expectedSeq: 0, events: [], audit: audit(2), invocationKey: 'k2', reply })).ok).toBe(true);
    await store.close();

    const reopened = await createSqlStore({ db: createSqliteDb({ file }) });
    expect((await reopened.searchAudit({ limit: 10 })).map((r) => r.rawText)).toEqual(['status 2']);
    expect(await reopened.findInvocationReply('k1')).toBeUndefined();
    expect(await reopened.verifyAudit()).toEqual({ ok: true, count: 1 });
    await reopened.close();
  });

  it('a process killed between commit and answer: the redelivery gets the stored reply and nothing runs twice', async () => {
    dir = mkdtempSync(join(tmpdir(), 'infrabot-kill-'));
    const text = 'killswitch on --reason "drill"';
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'commit-then-die.ts'), dir, 'inv-1', text], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += String(d)));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += String(d);
        if (out.includes('committed')) resolve();
      });
      child.on('close', () => reject(new Error(`worker ended before committing: ${out} ${err}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(out).not.toContain('answered');

    // The platform redelivers the same invocation to the restarted bot.
    app = await createTestApp({ dir });
    const again = await app.run(text, { id: 'inv-1', confirmed: true });
    expect(again).toMatchObject({ outcome: 'ok', title: expect.stringMatching(/kill-switch/i) });
    expect((await app.engine.state()).killSwitch.on).toBe(true);
    const events = await app.store.events({});
    expect(events.filter((e) => e.event.type === 'killswitch.set')).toHaveLength(1);
    expect((await app.store.searchAudit({ limit: 10 })).filter((r) => r.invocationId === 'inv-1')).toHaveLength(1);
    expect(await app.store.verifyAudit()).toMatchObject({ ok: true });
  });
});
