import { afterEach, describe, expect, it } from 'vitest';
import type { HealthMonitor } from '../../src/engine/health-monitor.js';
import { postgresReachable } from '../helpers/sql-backends.js';
import { BASE_CONFIG, cluster, fakeService, httpCheck } from './health-helpers.js';
import { openReplicas } from './replica-helpers.js';

const INTERVAL = 10_000;
const LEASE = 20_000;

const pgOk = await postgresReachable('health replicas');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

for (const backend of ['sqlite', 'postgres'] as const) {
  (backend === 'postgres' && !pgOk ? describe.skip : describe)(`health across replicas [${backend}]`, () => {
    async function setup(n: number) {
      const services = await Promise.all([0, 1, 2].map(() => fakeService()));
      const { replicas: opened, clock, cleanup } = await openReplicas(
        backend, n,
        BASE_CONFIG(cluster('api', services.map((s, i) => httpCheck(`c${i}`, s.url))), `health: { leaseTime: ${LEASE / 1000}s }\nalerts: { reminder: { every: 30s, max: 3 } }`),
      );
      const replicas = opened.map((r) => r.monitor);
      cleanups.push(async () => {
        await cleanup();
        await Promise.all(services.map((s) => s.close()));
      });
      const hits = () => services.map((s) => s.state.hits);
      /** One interval on every live replica at once; returns the probes per check it caused. */
      const round = async (live: readonly HealthMonitor[], fn: (m: HealthMonitor) => Promise<unknown> = (m) => m.runDue()) => {
        const before = hits();
        clock.advance(INTERVAL);
        await Promise.all(live.map(fn));
        return hits().map((h, i) => h - before[i]!);
      };
      return { services, replicas, round, health: opened[0]!.health };
    }

    it('probes each check once per interval across three replicas, and takes over a dead one\'s checks within interval + lease', async () => {
      const { replicas, round, health } = await setup(3);
      for (let i = 0; i < 6; i++) expect(await round(replicas)).toEqual([1, 1, 1]);

      // The replica probing c0 dies: no goodbye, its leases stay in the table until they expire.
      const owner = (await health.leases.read('check:c0'))[0]!.owner;
      const dead = replicas.find((r) => r.replica === owner)!;
      const live = replicas.filter((r) => r !== dead);
      const gap: number[][] = [];
      for (let i = 0; i < 6; i++) gap.push(await round(live));
      // Never probed twice in an interval; back to once per interval after at most interval + lease.
      expect(gap.flat().every((n) => n <= 1)).toBe(true);
      const firstProbeOfC0 = gap.findIndex((g) => g[0] === 1);
      expect(firstProbeOfC0).toBeGreaterThanOrEqual(0);
      expect((firstProbeOfC0 + 1) * INTERVAL).toBeLessThanOrEqual(INTERVAL + LEASE);
      expect(gap.slice(firstProbeOfC0)).toEqual(gap.slice(firstProbeOfC0).map(() => [1, 1, 1]));
      const owners = new Set((await health.leases.read('check:')).map((l) => l.owner));
      expect(owners.has(owner)).toBe(false);
    }, 60_000);

    it('fires one alert and each reminder once however many replicas run the housekeeping', async () => {
      const { services, replicas, round, health } = await setup(3);
      services[1]!.break();
      for (let i = 0; i < 14; i++) await round(replicas, (m) => m.tick());
      const alerts = await health.alerts({});
      expect(alerts.map((a) => a.check)).toEqual(['c1']);
      const events = await health.alertEvents({ alertId: alerts[0]!.id });
      expect(events.filter((e) => e.type === 'fired')).toHaveLength(1);
      const reminded = events.filter((e) => e.type === 'reminded').map((e) => e.detail);
      expect(reminded).toEqual(['reminder 1 of 3', 'reminder 2 of 3', 'reminder 3 of 3']);
    }, 60_000);
  });
}
