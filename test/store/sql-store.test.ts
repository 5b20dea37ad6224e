import { afterEach, expect, it } from 'vitest';
import type { AuditDraft } from '../../src/audit/audit-record.js';
import type { ControlState } from '../../src/engine/control-state.js';
import type { Reply } from '../../src/framework/reply.js';
import { sql } from '../../src/store/db/sql.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import type { CommitInput, Store } from '../../src/store/store.js';
import { describeEachBackend } from '../helpers/sql-backends.js';

const audit = (n: number): AuditDraft => ({
  at: new Date(Date.UTC(2026, 10, 21, 3, 0, n)).toISOString(), platform: 'console', userId: 'local:a', userName: 'a',
  rawText: `status ${n}`, command: 'status', outcome: 'ok', traceId: `t${n}`, invocationId: `i${n}`,
});
const reply = { title: 'ok' } as Reply;
const base: ControlState = { seq: 0, killSwitch: { on: false }, clusters: {}, grants: [] };

/** A kill-switch change decided on `state` (as the pipeline would hand it to the store). */
const flip = (state: ControlState, n: number, on: boolean, extra: Partial<CommitInput> = {}): CommitInput => ({
  expectedSeq: state.seq,
  events: [{ actor: 'local:a', scope: 'global', event: { type: 'killswitch.set', on } }],
  state: { ...state, killSwitch: { on } },
  audit: { ...audit(n), rawText: `killswitch ${on ? 'on' : 'off'}` },
  invocationKey: `k${n}`,
  reply,
  ...extra,
});

describeEachBackend('control store', (backend) => {
  afterEach(() => backend.cleanup());
  const open = async (): Promise<{ db: SqlDb; store: Store }> => {
    const db = await backend.open();
    return { db, store: await createSqlStore({ db, ownsDb: false }) };
  };

  it('commits events, the state they produce and an audit record that covers them, in order', async () => {
    const { store } = await open();
    const first = await store.commit(flip(base, 1, true));
    expect(first).toMatchObject({ ok: true, audit: { id: 1 }, events: [{ seq: 1, event: { type: 'killswitch.set', on: true } }] });
    const state = (await store.readState())!;
    expect(state).toMatchObject({ seq: 1, killSwitch: { on: true } });
    const second = await store.commit(flip(state, 2, false));
    expect(second).toMatchObject({ ok: true, audit: { id: 2 }, events: [{ seq: 2 }] });
    expect((await store.events({})).map((e) => [e.seq, e.event])).toEqual([[1, { type: 'killswitch.set', on: true }], [2, { type: 'killswitch.set', on: false }]]);
    expect(await store.events({ after: audit(1).at })).toHaveLength(1);
    const snap = await store.controlSnapshot();
    expect(snap.state?.seq).toBe(2);
    expect(snap.events).toHaveLength(2);
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 2 });
  });

  it('refuses a commit decided on a state that moved on, and keeps nothing of it (not even its invocation key)', async () => {
    const { store } = await open();
    await store.commit(flip(base, 1, true));
    expect(await store.commit(flip(base, 2, false))).toEqual({ ok: false, reason: 'conflict' });
    const stored = (await store.readState())!;
    expect(await store.commit(flip(stored, 3, false, { expectedVersion: 'not-the-stored-one' }))).toEqual({ ok: false, reason: 'conflict' });
    expect(await store.findInvocationReply('k2')).toBeUndefined();
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 1 });
    expect((await store.readState())!.killSwitch.on).toBe(true);
  });

  it('answers a duplicate invocation key with the first reply and writes nothing', async () => {
    const { store } = await open();
    const first = await store.commit({ expectedSeq: 0, events: [], audit: audit(1), invocationKey: 'k', reply: { title: 'first' } as Reply });
    const second = await store.commit({ expectedSeq: 0, events: [], audit: audit(2), invocationKey: 'k', reply: { title: 'second' } as Reply });
    expect(first.ok).toBe(true);
    expect(second).toEqual({ ok: false, reason: 'duplicate', reply: { title: 'first' } });
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 1 });
  });

  it("runs a command's other writes on its unit of work: once, never for a duplicate, all or nothing", async () => {
    const { db, store } = await open();
    await db.exec('CREATE TABLE notes (text TEXT NOT NULL)');
    const note = (text: string) => async (tx: Parameters<NonNullable<CommitInput['effects']>[number]>[0]) => void (await tx.run(sql`INSERT INTO notes (text) VALUES (${text})`));
    const notes = async () => (await db.all<{ text: string }>(sql`SELECT text FROM notes`)).map((r) => r.text);

    await store.commit({ expectedSeq: 0, events: [], audit: audit(1), invocationKey: 'k1', reply, effects: [note('first')] });
    await store.commit({ expectedSeq: 0, events: [], audit: audit(2), invocationKey: 'k1', reply, effects: [note('redelivered')] });
    const boom = async () => {
      throw new Error('boom');
    };
    await expect(store.commit({ expectedSeq: 0, events: [], audit: audit(3), invocationKey: 'k3', reply, effects: [note('half'), boom] })).rejects.toThrow('boom');
    expect(await notes()).toEqual(['first']);
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 1 });
    expect(await store.findInvocationReply('k3')).toBeUndefined();
  });

  it('records text a chat platform may send but a database may refuse (NUL, lone surrogates) and keeps the chain', async () => {
    const { store } = await open();
    const odd = await store.commit({ expectedSeq: 0, events: [], audit: { ...audit(1), rawText: 'status \u0000api \uD800', userName: 'a\u0000b' }, invocationKey: 'k1', reply });
    expect(odd).toMatchObject({ ok: true, audit: { rawText: 'status \uFFFDapi \uFFFD', userName: 'a\uFFFDb' } });
    expect((await store.searchAudit({ limit: 1 }))[0]?.rawText).toBe('status \uFFFDapi \uFFFD');
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 1 });
  });

  it('keeps the chain linear and the event sequence gap-free under many concurrent commits', async () => {
    const { store } = await open();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store.commit({ expectedSeq: 0, events: [], audit: audit(i + 1), invocationKey: `k${i}`, reply })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => (r.ok ? r.audit.id : 0)).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 40 });
  });

  it('commits concurrent commands independently: one whose effect fails undoes only itself', async () => {
    const { store } = await open();
    const fail = async () => {
      throw new Error('effect failed');
    };
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.commit({ expectedSeq: 0, events: [], audit: audit(i + 1), invocationKey: `k${i}`, reply, ...(i % 5 === 2 ? { effects: [fail] } : {}) }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4);
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 16 });
    expect(await store.findInvocationReply('k2')).toBeUndefined();
    expect(await store.findInvocationReply('k3')).toEqual(reply);
  });

  it('detects a changed record, a deleted one, reordered ones, changed events and a missing head', async () => {
    const { db, store } = await open();
    let state = base;
    for (let n = 1; n <= 5; n++) {
      const r = await store.commit(flip(state, n, n % 2 === 1));
      expect(r.ok).toBe(true);
      state = (await store.readState())!;
    }
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 5 });
    const expectBroken = async (firstBad: number, problem: string) => expect(await store.verifyAudit()).toMatchObject({ ok: false, firstBad, problem: expect.stringContaining(problem) });

    await db.run(sql`UPDATE audit SET raw_text = ${'killswitch off'} WHERE id = 3`);
    await expectBroken(3, 'do not match its hash');
    await db.run(sql`UPDATE audit SET raw_text = ${'killswitch on'} WHERE id = 3`);
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 5 });

    await db.run(sql`UPDATE events SET data = ${JSON.stringify({ type: 'killswitch.set', on: false })} WHERE seq = 1`);
    await expectBroken(1, 'control events it wrote were changed');
    await db.run(sql`UPDATE events SET data = ${JSON.stringify({ type: 'killswitch.set', on: true })} WHERE seq = 1`);

    await db.exec('UPDATE audit SET id = 100 WHERE id = 2; UPDATE audit SET id = 2 WHERE id = 3; UPDATE audit SET id = 3 WHERE id = 100');
    await expectBroken(2, 'previous-hash');
    await db.exec('UPDATE audit SET id = 100 WHERE id = 2; UPDATE audit SET id = 2 WHERE id = 3; UPDATE audit SET id = 3 WHERE id = 100');
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 5 });

    await db.exec('DELETE FROM audit WHERE id = 5; DELETE FROM events WHERE audit_id = 5');
    expect(await store.verifyAudit()).toMatchObject({ ok: false, problem: expect.stringContaining('deleted from the end') });
    await db.exec('DELETE FROM audit WHERE id = 2; DELETE FROM events WHERE audit_id = 2');
    await expectBroken(3, 'record 2 is missing');
    await db.exec('DELETE FROM audit_head; DELETE FROM audit WHERE id > 1; DELETE FROM events WHERE audit_id > 1');
    expect(await store.verifyAudit()).toMatchObject({ ok: false, problem: expect.stringContaining('head record is missing') });
  });

  it('walks part of the chain, reads fields, hashes and leaves for proofs', async () => {
    const { store } = await open();
    for (let n = 1; n <= 6; n++) await store.commit({ expectedSeq: 0, events: [], audit: audit(n), invocationKey: `k${n}`, reply });
    const seen: number[] = [];
    const full = await store.walkAudit({ onRecord: (id) => seen.push(id) });
    expect(full).toMatchObject({ count: 6, lastId: 6, head: { lastId: 6 } });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    const hashes = await store.auditHashes(0, 6);
    const part = await store.walkAudit({ afterId: 3, prevHash: hashes[2]!, uptoId: 5 });
    expect(part).toMatchObject({ count: 2, lastId: 5, lastHash: hashes[4] });
    expect(await store.leafHashes(4)).toEqual(hashes.slice(0, 4));
    const fields = await store.auditFields(2);
    expect(fields).toMatchObject({ prevHash: hashes[0], fields: expect.arrayContaining([2, 'status 2']) });
    const exported: number[] = [];
    expect(await store.exportAudit((r) => void exported.push(r.id))).toBe(6);
    expect(exported).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await store.searchAudit({ command: 'status', limit: 2 })).map((r) => r.id)).toEqual([6, 5]);
  });

  it('stores checkpoints with their leaves, first writer wins, and key rotations', async () => {
    const { store } = await open();
    const cp = { seq: 1, lastId: 2, at: audit(1).at, root: 'r', keyId: 'key1', statement: JSON.stringify({ seq: 1, lastId: 2 }), hash: 'h', signature: 's' };
    const leaves = ['a'.repeat(64), 'b'.repeat(64)];
    expect(await store.appendCheckpoint(cp as never, ['f'], leaves)).toBe(true);
    expect(await store.appendCheckpoint(cp as never, ['g'], leaves)).toBe(false);
    expect(await store.checkpointLeaves(1)).toEqual(leaves);
    expect((await store.latestCheckpoint())?.frontier).toEqual(['f']);
    expect(await store.checkpoints()).toHaveLength(1);
    await store.saveKeyRotation({ newKeyId: 'k2' } as never);
    await store.saveKeyRotation({ newKeyId: 'k2', other: 1 } as never);
    expect(await store.keyRotations()).toEqual([{ newKeyId: 'k2' }]);
  });

  it('uses a button group once, and forgets old invocation keys and expired buttons', async () => {
    const { store } = await open();
    await store.saveAction({ id: 'b1', group: 'g', command: 'killswitch on', confirmed: true, singleUse: true, createdBy: 'local:a', createdAt: audit(1).at });
    await store.saveAction({ id: 'b2', group: 'g', kind: 'cancel', command: 'killswitch on', confirmed: true, createdBy: 'local:a', createdAt: audit(1).at });
    expect(await store.useActionGroup('g', audit(2).at)).toBe(true);
    expect(await store.useActionGroup('g', audit(3).at)).toBe(false);
    await store.releaseActionGroup('g', audit(2).at);
    expect(await store.getAction('b2')).toMatchObject({ kind: 'cancel', group: 'g', confirmed: true, singleUse: false });
    expect((await store.getAction('b1'))?.usedAt).toBeUndefined();

    for (let n = 1; n <= 5; n++) await store.commit({ expectedSeq: 0, events: [], audit: audit(n), invocationKey: `k${n}`, reply });
    await store.saveAction({ id: 'old', command: 'status', confirmed: false, createdBy: 'local:a', createdAt: audit(1).at, expiresAt: audit(2).at });
    expect(await store.prune(audit(4).at)).toBe(4); // k1..k3 and the expired button
    expect(await store.findInvocationReply('k3')).toBeUndefined();
    expect(await store.findInvocationReply('k4')).toEqual(reply);
    expect(await store.getAction('old')).toBeUndefined();
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 5 }); // the audit log itself is never pruned
  });
});
