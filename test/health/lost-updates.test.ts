import { afterEach, describe, expect, it } from 'vitest';
import type { HealthBatch } from '../../src/store/health-store.js';
import { postgresReachable } from '../helpers/sql-backends.js';
import { BASE_CONFIG, cluster, fakeService, httpCheck, oneCheckApp } from './health-helpers.js';
import { openReplicas, type Replica } from './replica-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('an ack racing a resolve (one process, the command path)', () => {
  it('ends resolved with the ack recorded, and the next outage notifies', async () => {
    const h = await oneCheckApp(cleanups);
    h.svc.break();
    await h.round(3);
    const [alert] = await h.app.health!.health.alerts({ status: 'firing' });
    expect(h.sink.posts()).toHaveLength(1);
    // `alert ack` decides on the firing alert; before its commit lands the probe sees the check recover and
    // resolves the alert.
    const alerts = h.app.health!.alerts;
    const ack = alerts.ack.bind(alerts);
    let raced = false;
    alerts.ack = async (...args) => {
      const decided = await ack(...args);
      if (!raced) {
        raced = true;
        h.svc.heal();
        await h.round(2);
        expect((await h.app.health!.health.alert(alert!.id))!.status).toBe('resolved');
      }
      return decided;
    };
    const reply = await h.app.run(`alert ack ${alert!.id}`);
    expect(reply.outcome).toBe('ok');
    const stored = (await h.app.health!.health.alert(alert!.id))!;
    expect(stored).toMatchObject({ status: 'resolved', ackedBy: 'local:root-admin' });
    const types = (await h.app.health!.health.alertEvents({ alertId: alert!.id })).map((e) => e.type);
    expect(types.filter((t) => t === 'acked')).toHaveLength(1);
    expect(types.at(-1)).toBe('acked');

    // The next real outage fires a new alert and posts it (the stale alert absorbs nothing).
    h.svc.break();
    await h.round(3);
    const firing = await h.app.health!.health.alerts({ status: 'firing' });
    expect(firing).toHaveLength(1);
    expect(firing[0]!.id).not.toBe(alert!.id);
    expect(h.sink.posts()).toHaveLength(2);
  });
});

const pgOk = await postgresReachable('lost updates across replicas');

/**
 * Two replicas on one database: a time-driven write of one (reminders) decided on rows that a command on the
 * other changes before the first commits. On PostgreSQL that interleaving is real (READ COMMITTED, separate
 * connections): the late write must conflict and be decided again. On SQLite the unit of work holds the write
 * lock from its first read, so the two are serialized; the same assertions hold either way.
 */
for (const backend of ['sqlite', 'postgres'] as const) {
  (backend === 'postgres' && !pgOk ? describe.skip : describe)(`time-driven writes never undo a command [${backend}]`, () => {
    async function setup() {
      const svc = await fakeService();
      const { replicas, clock, cleanup } = await openReplicas(
        backend, 2,
        BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)]), 'alerts: { reminder: { every: 30s, max: 3 } }\nincidents: { updateEvery: { 2: 1m } }'),
      );
      cleanups.push(async () => {
        await cleanup();
        await svc.close();
      });
      return { svc, a: replicas[0]!, b: replicas[1]!, clock };
    }

    /**
     * Runs `other` in the middle of `first`: right after `first` read through `read` (its decision is then
     * made on what it read). On SQLite the other write cannot run inside `first`'s unit of work (it would wait
     * for its lock), so it runs after it instead.
     */
    function interleave<K extends 'alerts' | 'incident'>(r: Replica, read: K, other: () => Promise<unknown>): { done: () => Promise<unknown> } {
      const original = r.health[read].bind(r.health) as (...args: unknown[]) => Promise<unknown>;
      let pending: Promise<unknown> | undefined;
      (r.health as unknown as Record<string, unknown>)[read] = async (...args: unknown[]) => {
        const rows = await original(...args);
        if (!pending) {
          pending = other();
          if (backend === 'postgres') await pending;
        }
        return rows;
      };
      return { done: async () => pending };
    }

    it('`alerts.tick` does not drop an ack that lands while it decides a reminder', async () => {
      const { svc, a, b, clock } = await setup();
      svc.break();
      for (let i = 0; i < 3; i++) {
        clock.advance(10_000);
        await a.monitor.runDue();
      }
      const [alert] = await a.health.alerts({ status: 'firing' });
      clock.advance(31_000); // its first reminder is due
      const race = interleave(a, 'alerts', () =>
        b.health.unit(async (attempt) => {
          const batch: HealthBatch = {};
          await b.monitor.alerts.ack([alert!.id], 'local:alice', batch, { resolvedToo: attempt > 1 });
          await b.health.commit(batch, clock.now().toISOString());
        }),
      );
      await a.monitor.alerts.tick();
      await race.done();
      const stored = (await a.health.alert(alert!.id))!;
      expect(stored).toMatchObject({ status: 'firing', ackedBy: 'local:alice' });
      expect(stored.nextReminderAt).toBeUndefined();
      // Later rounds remind nobody of an acknowledged alert.
      clock.advance(120_000);
      await a.monitor.alerts.tick();
      const reminded = (await a.health.alertEvents({ alertId: alert!.id })).filter((e) => e.type === 'reminded');
      expect(reminded.length).toBeLessThanOrEqual(backend === 'postgres' ? 0 : 1);
    });

    it('`incidents.tick` does not undo a resolve that lands while it decides a reminder', async () => {
      const { a, b, clock } = await setup();
      const declared = await a.health.unit(async () => {
        const batch: HealthBatch = {};
        const inc = await a.monitor.incidents.declare({ title: 'Checkout errors', sev: 2, cluster: 'api', actor: 'local:alice' }, batch);
        await a.health.commit(batch, clock.now().toISOString());
        return inc;
      });
      clock.advance(61_000); // its status-update reminder is due
      const race = interleave(a, 'incident', () =>
        b.health.unit(async () => {
          const batch: HealthBatch = {};
          await b.monitor.incidents.resolve(declared.id, 'rolled back', 'local:bob', batch);
          await b.health.commit(batch, clock.now().toISOString());
        }),
      );
      await a.monitor.incidents.tick();
      await race.done();
      const stored = (await a.health.incident(declared.id))!;
      expect(stored).toMatchObject({ status: 'resolved', summary: 'rolled back' });
      expect((await a.health.incidents({ open: true })).map((i) => i.id)).not.toContain(declared.id);
    });
  });
}
