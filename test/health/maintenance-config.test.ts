import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { createAlertManager } from '../../src/engine/alerts/alert-manager.js';
import { recurringWindowSchema } from '../../src/config/health-config-schema.js';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('maintenance window patterns', () => {
  it('refuses an invalid cron pattern at config load, naming the path', () => {
    const config = BASE_CONFIG(cluster('api', [], '    maintenance:\n      - { cron: "0 25 * * *", duration: 1h }\n'));
    expect(() => parseConfig(config, 'test.yaml', {})).toThrow(/clusters\.api\.maintenance\.0\.cron: invalid maintenance window pattern: .*hour/);
    const ok = BASE_CONFIG(cluster('api', [], '    maintenance:\n      - { cron: "30 2 * * *", duration: 1h }\n'));
    expect(() => parseConfig(ok, 'test.yaml', {})).not.toThrow();
  });

  it('a window that cannot be evaluated counts as closed (alerts still notified) and is logged', async () => {
    const svc = await fakeService();
    const h = await healthApp(BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)])));
    cleanups.push(async () => {
      await h.app.cleanup();
      await svc.close();
    });
    // Bypasses config validation, as a window built in code or by an older config loader would.
    const bad = recurringWindowSchema.parse({ name: 'broken', start: '02:00', duration: '1h' });
    const manager = createAlertManager({
      health: h.app.health!.health, config: h.app.config.alerts, clock: h.clock, log: h.app.log, incidents: h.app.health!.incidents,
      onEnqueued: () => undefined, checkConfig: () => undefined, windows: { api: [{ ...bad, start: undefined, cron: '0 25 * * *' }] },
    });
    await expect(manager.heldBy('api', 'api-http')).resolves.toBeUndefined();
    await expect(manager.tick()).resolves.toBe(0);
    expect(h.app.logs.text()).toContain('maintenance window cannot be evaluated; treating it as closed');
  });
});
