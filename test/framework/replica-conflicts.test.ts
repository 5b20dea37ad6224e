import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../../commands/index.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createEngine, systemClock } from '../../src/engine/engine.js';
import { createPipeline, type Pipeline } from '../../src/framework/pipeline.js';
import { createRegistry } from '../../src/framework/registry.js';
import { createLogger } from '../../src/log.js';
import { createPostgresDb } from '../../src/store/db/postgres-db.js';
import type { SqlDb } from '../../src/store/db/sql-db.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import type { Store } from '../../src/store/store.js';
import { postgresReachable, postgresSchema } from '../helpers/sql-backends.js';
import { TEST_CONFIG } from '../helpers/test-app.js';

const pgOk = await postgresReachable('replica conflict tests');

/**
 * Two replicas of the real pipeline (each with its own store and connection pool) on one PostgreSQL schema,
 * changing the same control state at once: every change is decided on a state that another replica keeps
 * moving, which is where optimistic retries ran out and commands were refused "Too busy".
 */
(pgOk ? describe : describe.skip)('two replicas changing the control state at once on PostgreSQL', () => {
  let schema: Awaited<ReturnType<typeof postgresSchema>>;
  const dbs: SqlDb[] = [];
  const stores: Store[] = [];
  const pipelines: Pipeline[] = [];
  beforeAll(async () => {
    schema = await postgresSchema();
    const config = parseConfig(TEST_CONFIG, 'test.yaml', {});
    const registry = createRegistry(COMMAND_GROUPS);
    for (let i = 0; i < 2; i++) {
      const db = await createPostgresDb({ url: schema.url, schema: schema.schema, max: 5 });
      dbs.push(db);
      const store = await createSqlStore({ db, ownsDb: false });
      stores.push(store);
      const engine = createEngine({ store, config, clock: systemClock });
      pipelines.push(createPipeline({ registry, engine, store, log: createLogger({ level: 'silent' }) }));
    }
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    for (const db of dbs) await db.close();
    await schema?.drop();
  });

  it('runs every command exactly once, refuses none, and leaves the state of the last event', async () => {
    const N = 50;
    const set = (replica: number, i: number) =>
      pipelines[replica]!.handle({
        id: `r${replica}-${i}`, platform: 'console', user: { id: 'local:root-admin', displayName: 'root' },
        text: `ratelimit set api --per-minute ${1000 + replica * N + i}`, confirmed: true,
      });
    const replies = await Promise.all(Array.from({ length: N }, (_, i) => [set(0, i), set(1, i)]).flat());

    const refused = replies.filter((r) => r.outcome !== 'ok').map((r) => `${r.title}: ${r.text}`);
    expect(refused).toEqual([]);
    const events = await stores[0]!.events({});
    const values = events.map((e) => (e.event.type === 'ratelimit.set' ? e.event.limits.perMinute : undefined));
    // Exactly one event per command: every value once, none lost, none written twice.
    expect([...values].sort()).toEqual(Array.from({ length: 2 * N }, (_, i) => 1000 + i).sort());
    // The stored state is the one the last event leaves, seen the same on both replicas.
    for (const store of stores) {
      const state = (await store.readState())!;
      expect(state.seq).toBe(events.at(-1)!.seq);
      expect(state.clusters.api?.rateLimits.perMinute).toBe(values.at(-1));
    }
    // Each reply shows the change as it landed: from the value the event before it left (600, the configured
    // limit, for the first), also when the command was decided again because the other replica moved first.
    for (const [k, reply] of replies.entries()) {
      const value = 1000 + (k % 2) * N + Math.floor(k / 2);
      const at = values.indexOf(value);
      expect(reply.data).toMatchObject({ cluster: 'api', before: { perMinute: at === 0 ? 600 : values[at - 1] }, after: { perMinute: value } });
    }
    expect(await stores[1]!.verifyAudit()).toEqual({ ok: true, count: 2 * N });
  });

  it('decides a command again on the change another replica committed between its decision and its commit', async () => {
    // Replica 0's store as it is, except that every state-changing commit it is handed first waits for
    // replica 1 to change the same limit: the worst interleaving, on every attempt.
    const real = stores[0]!;
    let interfered = 0;
    const raced: Store = {
      ...real,
      async commit(input) {
        if (input.events.length > 0) {
          const n = ++interfered;
          await pipelines[1]!.handle({ id: `race-${n}`, platform: 'console', user: { id: 'local:root-admin', displayName: 'root' }, text: `ratelimit set api --per-minute ${3000 + n}`, confirmed: true });
        }
        return real.commit(input);
      },
    };
    const engine = createEngine({ store: raced, config: parseConfig(TEST_CONFIG, 'test.yaml', {}), clock: systemClock });
    const pipeline = createPipeline({ registry: createRegistry(COMMAND_GROUPS), engine, store: raced, log: createLogger({ level: 'silent' }) });
    const reply = await pipeline.handle({ id: 'raced', platform: 'console', user: { id: 'local:root-admin', displayName: 'root' }, text: 'ratelimit set api --per-minute 777', confirmed: true });

    expect(reply).toMatchObject({ outcome: 'ok', data: { before: { perMinute: 3001 }, after: { perMinute: 777 } } });
    expect(interfered).toBe(1); // decided again once, under the lock: nothing could move the state again
    const events = (await real.events({})).slice(-2).map((e) => (e.event.type === 'ratelimit.set' ? e.event.limits.perMinute : undefined));
    expect(events).toEqual([3001, 777]);
    expect((await real.readState())!.clusters.api?.rateLimits.perMinute).toBe(777);
    // A redelivery gets the reply of the decision that landed.
    expect(await pipeline.handle({ id: 'raced', platform: 'console', user: { id: 'local:root-admin', displayName: 'root' }, text: 'ratelimit set api --per-minute 777', confirmed: true })).toEqual(reply);
  });
});
