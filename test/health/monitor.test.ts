import { afterEach, describe, expect, it } from 'vitest';
import { evaluateCheck, initialCheckState } from '../../src/engine/checks/evaluate-check.js';
import { checkSchema } from '../../src/config/health-config-schema.js';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck, oneCheckApp } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const setup = (checkExtra = '') => oneCheckApp(cleanups, checkExtra);

describe('health monitor', () => {
  it('shows state, last result, uptime and latency percentiles, and the history of a check', async () => {
    const h = await setup();
    await h.round(6);
    h.svc.break();
    await h.round(4);
    const show = await h.app.run('health api');
    expect(show.outcome).toBe('ok');
    expect(show.table!.columns).toEqual(['check', 'cluster', 'type', 'state', 'last result', 'up 24h', 'up 7d', 'p50', 'p95']);
    const row = show.table!.rows[0]!;
    expect(row.slice(0, 4)).toEqual(['api-http', 'api', 'http', '🔴 DOWN']);
    expect(row[4]).toMatch(/^✗ HTTP 503 \(expected 200\) \d+ ms at 11-21 03:01:40Z$/);
    expect(row[5]).toBe('60.0%');
    expect(row[7]).toMatch(/^\d+ ms$/);
    expect(show.severity).toBe('critical');

    const history = await h.app.run('health history api-http --since 1h');
    expect(history.text).toMatch(/^Uptime 60\.0% over 10 probes/);
    expect(history.table!.rows).toHaveLength(10);
    expect(history.table!.rows[0]!.slice(1, 2)).toEqual(['❌ fail']);
    expect((await h.app.run('health history nope')).outcome).toBe('invalid');

    h.svc.heal();
    const run = await h.app.run('health run api-http');
    expect(run.title).toBe('✅ api-http: ok');
    expect(run.fields!.find((f) => f.name === 'Streak')!.value).toBe('1 success');
  });

  it('folds old results into hourly roll-ups that still count toward 7-day uptime', async () => {
    const h = await setup();
    await h.round(6 * 60); // one hour of results, all healthy
    h.svc.break();
    await h.round(6 * 60);
    const before = await h.app.health!.health.stats('api-http', '2026-11-14T00:00:00.000Z');
    expect(before.total).toBe(720);
    const { folded } = await h.app.health!.health.compact('2026-11-21T04:00:05.000Z', '2026-10-01T00:00:00.000Z');
    expect(folded).toBe(360);
    expect(await h.app.health!.health.results('api-http', '2026-11-21T00:00:00.000Z', 1000)).toHaveLength(360);
    const after = await h.app.health!.health.stats('api-http', '2026-11-14T00:00:00.000Z');
    expect(after).toMatchObject({ total: 720, ok: before.ok });
  }, 60_000); // 720 probe rounds, each committed durably (synchronous=FULL)

  it('flags latency departing from the check\'s own baseline as degraded (warning), and recovers', async () => {
    const svc = await fakeService();
    const h = await healthApp(BASE_CONFIG(cluster('api', [
      `      - { name: api-http, type: http, url: "${svc.url}", interval: 10s, successThreshold: 2, degraded: { zScore: 3, minDeltaMs: 60, after: 3 } }`,
    ])));
    cleanups.push(async () => {
      await h.app.cleanup();
      await svc.close();
    });
    await h.round(12); // baseline of fast answers
    svc.state.delayMs = 250;
    await h.round(2);
    expect(h.sink.calls).toHaveLength(0);
    await h.round();
    const [post] = h.sink.posts();
    expect(post!.reply.title).toMatch(/api-http is DEGRADED: \d+ ms against a baseline of \d+ ms/);
    expect(post!.reply.severity).toBe('warning');
    svc.state.delayMs = 0;
    await h.round(2);
    expect(h.sink.updates(post!.messageId).at(-1)!.reply.title).toContain('RESOLVED');
  });

  it('escalates a TLS certificate from warning to critical as expiry nears', () => {
    const tls = checkSchema.parse({ name: 'cert', type: 'tls', host: 'example.org' });
    let s = initialCheckState(tls, 'web', '2026-11-21T00:00:00Z');
    const probe = (days: number) => {
      const r = evaluateCheck(tls, s, { ok: true, latencyMs: 5, certDaysLeft: days }, '2026-11-21T00:00:00Z');
      s = r.state;
      return r.transitions;
    };
    expect(probe(30)).toEqual([]);
    expect(probe(13.5)).toEqual([{ type: 'fire', kind: 'cert', severity: 'warning', summary: 'certificate of example.org expires in 13 days' }]);
    expect(probe(13)).toEqual([]);
    expect(probe(6.9)).toEqual([{ type: 'escalate', kind: 'cert', severity: 'critical', summary: 'certificate of example.org expires in 6 days' }]);
    expect(probe(90)).toEqual([{ type: 'resolve', kind: 'cert', summary: 'certificate of example.org renewed' }]);
  });

  it('trips the breaker after sustained failure when remediation is configured, audited as system', async () => {
    const h = await setup('remediation: { action: trip-breaker, after: 2m }');
    h.svc.break();
    await h.round(3); // DOWN at 03:00:30
    await h.round(11);
    expect((await h.app.engine.state()).clusters.api!.breaker.state).toBe('closed');
    await h.round(1); // 2 min after DOWN
    const state = await h.app.engine.state();
    expect(state.clusters.api!.breaker.state).toBe('open');
    expect(state.clusters.api!.breaker.change?.by).toBe('system');
    const audit = await h.app.store.searchAudit({ userId: 'system', limit: 5 });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ platform: 'system', command: 'breaker trip', cluster: 'api', outcome: 'ok' });
    await h.round(6);
    expect(await h.app.store.searchAudit({ userId: 'system', limit: 5 })).toHaveLength(1); // once per outage
    const events = await h.app.health!.health.alertEvents({ cluster: 'api' });
    expect(events.map((e) => e.type)).toContain('remediated');
  });

  it('spreads probes over the interval instead of firing them all at once', async () => {
    const services = await Promise.all(Array.from({ length: 20 }, () => fakeService()));
    const h = await healthApp(BASE_CONFIG(cluster('api', services.map((s, i) => httpCheck(`c${i}`, s.url).replace('interval: 10s', 'interval: 60s')))));
    cleanups.push(async () => {
      await h.app.cleanup();
      await Promise.all(services.map((s) => s.close()));
    });
    const perStep: number[] = [];
    for (let i = 0; i < 6; i++) {
      h.clock.advance(10_000);
      perStep.push(await h.app.health!.runDue());
    }
    expect(perStep.reduce((a, b) => a + b, 0)).toBe(20); // each exactly once per interval
    expect(Math.max(...perStep)).toBeLessThan(20);
    expect(perStep.filter((n) => n > 0).length).toBeGreaterThan(2);
  });
});
