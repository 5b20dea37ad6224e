import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../src/audit/audit-record.js';
import type { ControlState } from '../../src/engine/control-state.js';
import type { Reply } from '../../src/framework/reply.js';
import { createPostgresDb } from '../../src/store/db/postgres-db.js';
import { sql } from '../../src/store/db/sql.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import type { CommitInput, Store } from '../../src/store/store.js';
import { postgresReachable, postgresSchema } from '../helpers/sql-backends.js';

const pgOk = await postgresReachable('replica tests');

const audit = (n: number, who = 'a'): AuditDraft => ({
  at: new Date(Date.UTC(2026, 10, 21, 3, 0, 0, n)).toISOString(), platform: 'slack', userId: `slack:${who}`, userName: who,
  rawText: `status ${n}`, command: 'status', outcome: 'ok', traceId: `t${n}`, invocationId: `i${n}`,
});

/** Two replicas: two stores, each on its own connection pool, sharing one PostgreSQL schema. */
(pgOk ? describe : describe.skip)('two replicas on one PostgreSQL', () => {
  let schema: Awaited<ReturnType<typeof postgresSchema>>;
  let dbs: SqlDb[] = [];
  let a: Store;
  let b: Store;
  beforeAll(async () => {
    schema = await postgresSchema();
    dbs = [await createPostgresDb({ url: schema.url, schema: schema.schema, max: 5 }), await createPostgresDb({ url: schema.url, schema: schema.schema, max: 5 })];
    // Both migrate at once, as replicas starting together do: the advisory lock lets one do it.
    const stores = await Promise.all(dbs.map((db) => createSqlStore({ db, ownsDb: false })));
    a = stores[0]!;
    b = stores[1]!;
    await dbs[0]!.exec('CREATE TABLE executions (invocation TEXT NOT NULL, replica TEXT NOT NULL)');
  });
  afterAll(async () => {
    for (const db of dbs) await db.close();
    await schema?.drop();
  });

  it('appends concurrently from both replicas into one linear, intact chain', async () => {
    const before = (await a.walkAudit()).count;
    const commits = Array.from({ length: 120 }, (_, i) =>
      (i % 2 ? a : b).commit({ expectedSeq: 0, events: [], audit: audit(i, i % 2 ? 'a' : 'b'), invocationKey: `append-${i}`, reply: { title: `r${i}` } as Reply }),
    );
    const results = await Promise.all(commits);
    expect(results.every((r) => r.ok)).toBe(true);
    const ids = results.map((r) => (r.ok ? r.audit.id : 0)).sort((x, y) => x - y);
    expect(ids).toEqual(Array.from({ length: 120 }, (_, i) => before + i + 1)); // contiguous chain positions
    expect(await b.verifyAudit()).toEqual({ ok: true, count: before + 120 });
  });

  it('executes an invocation delivered to both replicas at once exactly once; the other gets the first reply', async () => {
    for (let round = 0; round < 10; round++) {
      const key = `slack:dup-${round}`;
      const deliver = (store: Store, replica: string) =>
        store.commit({
          expectedSeq: 0, events: [], audit: audit(1000 + round, replica), invocationKey: key, reply: { title: `from ${replica}` } as Reply,
          effects: [async (tx) => void (await tx.run(sql`INSERT INTO executions (invocation, replica) VALUES (${key}, ${replica})`))],
        });
      const [ra, rb] = await Promise.all([deliver(a, 'a'), deliver(b, 'b')]);
      const winner = ra.ok ? 'a' : 'b';
      expect([ra.ok, rb.ok].filter(Boolean)).toHaveLength(1);
      expect(ra.ok ? rb : ra).toEqual({ ok: false, reason: 'duplicate', reply: { title: `from ${winner}` } });
      expect(await a.db.all(sql`SELECT replica FROM executions WHERE invocation = ${key}`)).toEqual([{ replica: winner }]);
    }
    expect(await a.verifyAudit()).toMatchObject({ ok: true });
  });

  it('lets exactly one of two replicas change the control state decided on the same version', async () => {
    const change = (state: ControlState, on: boolean, n: number): CommitInput => ({
      expectedSeq: state.seq,
      expectedVersion: state.version ?? '',
      version: `v-${n}`,
      events: [{ actor: 'slack:a', scope: 'global', event: { type: 'killswitch.set', on } }],
      state: { ...state, killSwitch: { on } },
      audit: audit(2000 + n),
      invocationKey: `cas-${n}`,
      reply: { title: 'ok' } as Reply,
    });
    for (let round = 0; round < 10; round++) {
      const state = (await a.readState()) ?? { seq: 0, killSwitch: { on: false }, clusters: {}, grants: [] };
      const [ra, rb] = await Promise.all([a.commit(change(state, true, round * 2)), b.commit(change(state, false, round * 2 + 1))]);
      expect([ra, rb].filter((r) => r.ok)).toHaveLength(1);
      expect([ra, rb].filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'conflict' }]);
      const stored = (await b.readState())!;
      expect(stored.seq).toBe(state.seq + 1);
      expect(stored.killSwitch.on).toBe(ra.ok);
    }
    const { state, events } = await a.controlSnapshot();
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(state?.seq).toBe(10);
    expect(await a.verifyAudit()).toMatchObject({ ok: true });
  });
});
