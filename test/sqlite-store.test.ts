import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditDraft } from '../src/audit/audit-record.js';
import type { Reply } from '../src/framework/reply.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const audit = (n: number): AuditDraft => ({
  at: new Date(Date.UTC(2026, 10, 21, 3, 0, n)).toISOString(), platform: 'console', userId: 'local:a', userName: 'a',
  rawText: `status ${n}`, command: 'status', outcome: 'ok', traceId: `t${n}`, invocationId: `i${n}`,
});
const reply = { title: 'ok' } as Reply;

describe('SQLite store', () => {
  it('fails the commits of a batch that cannot get the write lock, keeps none of them, and recovers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'infrabot-store-'));
    const file = join(dir, 'x.db');
    const store = await createSqliteStore({ file, busyTimeoutMs: 50 });
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
    await expect(store.commit({ expectedSeq: 0, events: [], audit: audit(1), invocationKey: 'k1', reply })).rejects.toThrow(/locked|busy/i);
    other.exec('ROLLBACK');
    other.close();
    const after = await store.commit({ expectedSeq: 0, events: [], audit: audit(2), invocationKey: 'k2', reply });
    expect(after.ok).toBe(true);
    await store.close();

    const reopened = await createSqliteStore({ file });
    expect((await reopened.searchAudit({ limit: 10 })).map((r) => r.rawText)).toEqual(['status 2']);
    expect(await reopened.findInvocationReply('k1')).toBeUndefined();
    expect(await reopened.verifyAudit()).toEqual({ ok: true, count: 1 });
    await reopened.close();
  });

  it('answers a duplicate invocation key with the first reply and writes nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'infrabot-store-'));
    const store = await createSqliteStore({ file: join(dir, 'x.db') });
    const first = await store.commit({ expectedSeq: 0, events: [], audit: audit(1), invocationKey: 'k', reply: { title: 'first' } as Reply });
    const second = await store.commit({ expectedSeq: 0, events: [], audit: audit(2), invocationKey: 'k', reply: { title: 'second' } as Reply });
    expect(first.ok).toBe(true);
    expect(second).toEqual({ ok: false, reason: 'duplicate', reply: { title: 'first' } });
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 1 });
    await store.close();
  });

  it('runs a command\'s other writes in its transaction: once, never for a duplicate, all or nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'infrabot-store-'));
    const file = join(dir, 'x.db');
    const side = new Database(file);
    const store = await createSqliteStore({ db: side });
    side.exec('CREATE TABLE notes (text TEXT NOT NULL)');
    const note = (text: string) => () => void side.prepare('INSERT INTO notes (text) VALUES (?)').run(text);
    const notes = () => side.prepare('SELECT text FROM notes').pluck().all();

    await store.commit({ expectedSeq: 0, events: [], audit: audit(1), invocationKey: 'k1', reply, effects: [note('first')] });
    await store.commit({ expectedSeq: 0, events: [], audit: audit(2), invocationKey: 'k1', reply, effects: [note('redelivered')] });
    const broken = store.commit({ expectedSeq: 0, events: [], audit: audit(3), invocationKey: 'k3', reply, effects: [note('half'), () => { throw new Error('boom'); }] });
    await expect(broken).rejects.toThrow('boom');
    expect(notes()).toEqual(['first']);
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 1 });
    expect(await store.findInvocationReply('k3')).toBeUndefined();
    await store.close();
  });

  it('reports a missing chain head as tampering', async () => {
    dir = mkdtempSync(join(tmpdir(), 'infrabot-store-'));
    const file = join(dir, 'x.db');
    const store = await createSqliteStore({ file });
    for (const n of [1, 2, 3]) await store.commit({ expectedSeq: 0, events: [], audit: audit(n), invocationKey: `k${n}`, reply });
    await store.close();
    const db = new Database(file);
    db.exec('DELETE FROM audit_head; DELETE FROM audit WHERE id = 3');
    db.close();
    const reopened = await createSqliteStore({ file });
    expect(await reopened.verifyAudit()).toMatchObject({ ok: false, problem: expect.stringContaining('head record is missing') });
    await reopened.close();
  });
});

describe('SQLite store housekeeping', () => {
  it('forgets old invocation keys and expired buttons, and keeps recent ones', async () => {
    dir = mkdtempSync(join(tmpdir(), 'infrabot-store-'));
    const store = await createSqliteStore({ file: join(dir, 'x.db') });
    for (let n = 1; n <= 5; n++) await store.commit({ expectedSeq: 0, events: [], audit: audit(n), invocationKey: `k${n}`, reply });
    await store.saveAction({ id: 'old', command: 'status', confirmed: false, createdBy: 'local:a', createdAt: audit(1).at, expiresAt: audit(2).at });
    await store.saveAction({ id: 'alert', command: 'alert ack 1', confirmed: false, createdBy: 'system', createdAt: audit(1).at });
    expect(await store.prune(audit(4).at)).toBe(4); // k1..k3 and the expired button
    expect(await store.findInvocationReply('k3')).toBeUndefined();
    expect(await store.findInvocationReply('k4')).toEqual(reply);
    expect(await store.getAction('old')).toBeUndefined();
    expect(await store.getAction('alert')).toBeDefined();
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 5 }); // the audit log itself is never pruned
    await store.close();
  });
});
