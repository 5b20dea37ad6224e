import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../../commands/index.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createEngine, systemClock } from '../../src/engine/engine.js';
import { createPipeline, type Pipeline } from '../../src/framework/pipeline.js';
import { createRegistry } from '../../src/framework/registry.js';
import type { Invocation } from '../../src/framework/invocation.js';
import { createLogger } from '../../src/log.js';
import { createPostgresDb } from '../../src/store/db/postgres-db.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import { createSqliteDb } from '../../src/store/db/sqlite-db.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import type { Store } from '../../src/store/store.js';
import { postgresReachable, postgresSchema } from '../helpers/sql-backends.js';
import { TEST_CONFIG } from '../helpers/test-app.js';

const pgOk = await postgresReachable('replica conflict tests');

const config = parseConfig(TEST_CONFIG, 'test.yaml', {});
const registry = createRegistry(COMMAND_GROUPS);
const pipelineOn = (store: Store): Pipeline =>
  createPipeline({ registry, engine: createEngine({ store, config, clock: systemClock }), store, log: createLogger({ level: 'silent' }) });
const admin = (id: string, text: string): Invocation => ({ id, platform: 'console', user: { id: 'local:root-admin', displayName: 'root' }, text, confirmed: true });
const perMinute = (store: Store) => store.events({}).then((events) => events.map((e) => (e.event.type === 'ratelimit.set' ? e.event.limits.perMinute : undefined)));

/** Two replicas of the real pipeline, each with its own store on its own connection(s) to one database. */
function replicas(
  name: string,
  open: () => Promise<{ dbs: SqlDb[]; drop(): Promise<void> }>,
  suite: (r: { stores: Store[]; pipelines: Pipeline[] }) => void,
  skip = false,
) {
  (skip ? describe.skip : describe)(name, () => {
    const r = { stores: [] as Store[], pipelines: [] as Pipeline[] };
    let opened: Awaited<ReturnType<typeof open>>;
    beforeAll(async () => {
      opened = await open();
      for (const db of opened.dbs) r.stores.push(await createSqlStore({ db, ownsDb: false }));
      r.pipelines.push(...r.stores.map(pipelineOn));
    });
    afterAll(async () => {
      for (const store of r.stores) await store.close();
      for (const db of opened?.dbs ?? []) await db.close();
      await opened?.drop();
    });
    suite(r);
  });
}

/**
 * Replica 0's store as it is, except that each state-changing commit it is handed first waits for replica 1
 * to change the same limit: the worst interleaving (another replica commits between decision and commit),
 * on every attempt. An optimistic retry never gets through this; a decision made under the lock does.
 */
function decidesAgainUnderTheLock(r: { stores: Store[]; pipelines: Pipeline[] }) {
  it('decides a command again on the change another replica committed between its decision and its commit', async () => {
    const real = r.stores[0]!;
    let interfered = 0;
    const raced: Store = {
      ...real,
      async commit(input) {
        if (input.events.length > 0) await r.pipelines[1]!.handle(admin(`race-${++interfered}`, `ratelimit set api --per-minute ${3000 + interfered}`));
        return real.commit(input);
      },
    };
    const pipeline = pipelineOn(raced);
    const reply = await pipeline.handle(admin('raced', 'ratelimit set api --per-minute 777'));

    expect(reply).toMatchObject({ outcome: 'ok', data: { before: { perMinute: 3001 }, after: { perMinute: 777 } } });
    expect(interfered).toBe(1); // decided again once, under the lock: nothing could move the state again
    expect((await perMinute(real)).slice(-2)).toEqual([3001, 777]);
    expect((await real.readState())!.clusters.api?.rateLimits.perMinute).toBe(777);
    // A redelivery gets the reply of the decision that landed.
    expect(await pipeline.handle(admin('raced', 'ratelimit set api --per-minute 777'))).toEqual(reply);
    expect(await real.verifyAudit()).toMatchObject({ ok: true });
  });
}

replicas('two replicas changing the control state at once on PostgreSQL', async () => {
  const schema = await postgresSchema();
  const dbs = [await createPostgresDb({ url: schema.url, schema: schema.schema, max: 5 }), await createPostgresDb({ url: schema.url, schema: schema.schema, max: 5 })];
  return { dbs, drop: () => schema.drop() };
}, (r) => {
  it('runs every command exactly once, refuses none, and answers each with the change that landed', async () => {
    const N = 50;
    const set = (replica: number, i: number) => r.pipelines[replica]!.handle(admin(`r${replica}-${i}`, `ratelimit set api --per-minute ${1000 + replica * N + i}`));
    const replies = await Promise.all(Array.from({ length: N }, (_, i) => [set(0, i), set(1, i)]).flat());

    const refused = replies.filter((reply) => reply.outcome !== 'ok').map((reply) => `${reply.title}: ${reply.text}`);
    expect(refused).toEqual([]);
    const values = await perMinute(r.stores[0]!);
    // Exactly one event per command: every value once, none lost, none written twice.
    expect([...values].sort()).toEqual(Array.from({ length: 2 * N }, (_, i) => 1000 + i).sort());
    // The stored state is the one the last event leaves, seen the same on both replicas.
    const last = (await r.stores[0]!.events({})).at(-1)!;
    for (const store of r.stores) {
      const state = (await store.readState())!;
      expect(state.seq).toBe(last.seq);
      expect(state.clusters.api?.rateLimits.perMinute).toBe(values.at(-1));
    }
    // Each reply shows the change as it landed: from the value the event before it left (600, the configured
    // limit, for the first), also when the command was decided again because the other replica moved first.
    for (const [k, reply] of replies.entries()) {
      const value = 1000 + (k % 2) * N + Math.floor(k / 2);
      const at = values.indexOf(value);
      expect(reply.data).toMatchObject({ cluster: 'api', before: { perMinute: at === 0 ? 600 : values[at - 1] }, after: { perMinute: value } });
    }
    expect(await r.stores[1]!.verifyAudit()).toEqual({ ok: true, count: 2 * N });
  });
  decidesAgainUnderTheLock(r);
}, !pgOk);

// On SQLite the other writer is another process on the same file (the CLI next to the bot): two connections.
replicas('two writers on one SQLite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-conflicts-'));
  const file = join(dir, 'infrabot.db');
  const first = createSqliteDb({ file });
  await createSqlStore({ db: first, ownsDb: false }); // migrated once before the second connection opens
  return { dbs: [first, createSqliteDb({ file })], drop: async () => rmSync(dir, { recursive: true, force: true }) };
}, decidesAgainUnderTheLock);
