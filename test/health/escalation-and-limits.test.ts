import { afterEach, describe, expect, it } from 'vitest';
import { checkSchema } from '../../src/config/health-config-schema.js';
import type { Transition } from '../../src/engine/checks/evaluate-check.js';
import type { HealthBatch } from '../../src/store/health-store.js';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(extra = '') {
  const svc = await fakeService();
  const h = await healthApp(BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)]), extra));
  cleanups.push(async () => {
    await h.app.cleanup();
    await svc.close();
  });
  return { ...h, svc };
}

describe('escalation routing', () => {
  it('a warning that escalates to critical reaches the critical-only route too', async () => {
    const h = await setup(`alerts:
  routes:
    - { severities: [critical], channels: { console: pager } }
  defaultChannels: { console: everything }`);
    const tls = checkSchema.parse({ name: 'api-tls', type: 'tls', host: 'api.example' });
    const step = async (t: Transition) => {
      const b: HealthBatch = {};
      await h.app.health!.alerts.apply(b, 'api', tls, [t]);
      await h.app.health!.health.commit(b, h.clock.now().toISOString());
      await h.app.health!.deliverer.drain();
    };
    await step({ type: 'fire', kind: 'cert', severity: 'warning', summary: 'certificate expires in 10 days' });
    expect(h.sink.posts().map((p) => p.channel)).toEqual(['everything']);
    h.clock.advance(60_000);
    await step({ type: 'escalate', kind: 'cert', severity: 'critical', summary: 'certificate expires in 5 days' });
    expect(h.sink.posts().map((p) => p.channel)).toEqual(['everything', 'pager']);
    expect(h.sink.posts()[1]!.reply.title).toContain('certificate expires in 5 days');
    expect(h.sink.updates().at(-1)!.reply.title).toContain('certificate expires in 5 days');
  });
});

describe('limits and edge cases', () => {
  it('answers huge durations with a usage error, not an internal error', async () => {
    const h = await setup();
    for (const text of [
      'silence api --for 99999999999w --reason "xyz abc"',
      'maintenance start api --for 99999999999w --reason "xyz abc"',
      'health history api-http --since 99999999999w',
      'incident stats --since 99999999999w',
    ]) {
      const r = await h.app.run(text);
      expect(r.outcome, text).toBe('invalid');
    }
  });

  it('does not take inherited object keys for clusters', async () => {
    const h = await setup();
    for (const target of ['__proto__', 'constructor', 'toString']) {
      const r = await h.app.run(`silence ${target} --for 1h --reason "xyz abc"`);
      expect(r.title, target).toBe('Not found');
    }
  });

  it('sends one reminder after downtime rather than a burst of the missed ones', async () => {
    const h = await setup();
    h.svc.break();
    await h.round(3);
    const msg = h.sink.posts()[0]!.messageId;
    h.clock.advance(3 * 3_600_000); // the bot was down for three hours
    await h.round(3);
    expect(h.sink.threadReplies(msg).filter((r) => r.reply.title.startsWith('⏰'))).toHaveLength(1);
  });

  it('warns at start-up about routes to a platform no adapter of this process serves', async () => {
    const h = await setup(`alerts:
  routes:
    - { clusters: [api], channels: { slack: "#api" } }`);
    h.app.health!.start();
    await h.app.health!.stop();
    const warned = h.app.logs.lines.map((l) => JSON.parse(l) as { level: number; msg: string; platform?: string }).filter((l) => l.level === 40 && l.msg.includes('no running adapter serves'));
    expect(warned.map((l) => l.platform)).toEqual(['slack']);
  });
});
