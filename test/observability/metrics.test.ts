import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { alertReceiverRoutes } from '../../src/http/alert-receiver-routes.js';
import { metricsRoutes } from '../../src/http/metrics-routes.js';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from '../health/health-helpers.js';
import { amWebhook, highErrors } from '../alerts/receiver-payloads.js';

const PROMTOOL = '/usr/bin/promtool';
const hasPromtool = existsSync(PROMTOOL);
if (!hasPromtool) {
  if (process.env.CI === 'true') throw new Error(`${PROMTOOL} is missing: .ci/run installs the Debian package "prometheus"`);
  console.warn(`SKIPPING promtool checks: install the Debian package "prometheus" (${PROMTOOL})`);
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const TOKEN = 'metrics-test-token-0123456789';

/** A bot that has done a bit of everything: commands, probes, a failing check, received alerts, a delivery retry. */
async function busyBot() {
  const svc = await fakeService();
  const h = await healthApp(BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)]), `receivers: { alertmanager: { token: ${TOKEN} } }`));
  const server = Fastify();
  await server.register(metricsRoutes, { metrics: h.app.metrics });
  await server.register(alertReceiverRoutes, { config: h.app.config.receivers, receive: (a) => h.app.health!.receiveAlerts(a) });
  cleanups.push(() => h.app.cleanup(), () => server.close(), () => svc.close());
  await h.app.run('status');
  await h.app.run('killswitch on --reason "metrics test"', { confirmed: true });
  await h.app.run('no-such-command');
  svc.break();
  await h.round(4);
  h.sink.serverError();
  await server.inject({ method: 'POST', url: '/api/alerts/alertmanager', headers: { authorization: `Bearer ${TOKEN}` }, payload: amWebhook([highErrors('m1'), highErrors('m2')]) });
  await h.app.health!.deliverer.drain();
  await h.app.audit.checkpointer.checkpoint();
  const scrape = async () => {
    const res = await server.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.body;
  };
  return { ...h, svc, scrape };
}

/** Metric family names in an exposition, with histogram series names (`_bucket`, `_sum`, `_count`). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>(['up']); // Prometheus' own, for every scrape target
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === 'histogram' || m[2] === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s);
  }
  return names;
}

/** Metric names a PromQL expression reads (identifiers before a selector or range; functions and keywords excluded). */
function queriedNames(expr: string): string[] {
  const cleaned = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...cleaned.matchAll(/\b([a-zA-Z_:][\w:]*)\s*(?=\{|\[|\s*[><=!]|\s*$|\s*\))/g)]
    .map((m) => m[1]!)
    .filter((n) => !/^(sum|rate|increase|max|min|avg|count|histogram_quantile|time|le|and|or|unless|bool)$/.test(n));
}

describe('/metrics', () => {
  it('exports what the bot did, in a format promtool accepts', async () => {
    const bot = await busyBot();
    const text = await bot.scrape();
    expect(text).toMatch(/^infrabot_commands_total\{command="status",outcome="ok",platform="console"\} 1$/m);
    expect(text).toMatch(/^infrabot_commands_total\{command="killswitch on",outcome="ok",platform="console"\} 1$/m);
    expect(text).toMatch(/^infrabot_commands_total\{command="unparsed",outcome="invalid",platform="console"\} 1$/m);
    expect(text).toMatch(/^infrabot_command_duration_seconds_count\{command="status",platform="console"\} 1$/m);
    expect(text).toMatch(/^infrabot_probe_results_total\{cluster="api",check="api-http",result="fail"\} [1-9]/m);
    expect(text).toMatch(/^infrabot_alerts_firing\{cluster="api",severity="critical"\} 2$/m);
    // The probe alert fired while the kill-switch was on: expected, so a warning.
    expect(text).toMatch(/^infrabot_alerts_firing\{cluster="api",severity="warning"\} 1$/m);
    expect(text).toMatch(/^infrabot_outbox_oldest_job_age_seconds\{platform="console"\} \d{1,2}(\.\d+)?$/m);
    expect(text).toMatch(/^infrabot_received_alerts_total\{source="alertmanager",outcome="fired"\} 2$/m);
    expect(text).toMatch(/^infrabot_chat_api_calls_total\{platform="console",result="error"\} 1$/m);
    expect(text).toMatch(/^infrabot_chat_api_retries_total\{platform="console"\} 1$/m);
    expect(text).toMatch(/^infrabot_outbox_pending_jobs\{platform="console"\} [1-9]/m);
    expect(text).toMatch(/^infrabot_store_commit_duration_seconds_count [1-9]/m);
    expect(text).toMatch(/^infrabot_process_resident_memory_bytes \d+/m);
    // The checkpoint just signed, at the bot's clock.
    expect(text).toContain(`infrabot_audit_checkpoint_timestamp_seconds ${bot.clock.now().getTime() / 1000}\n`);

    // Levels follow the store: once the alerts resolve and the outbox drains, they drop.
    bot.svc.heal();
    bot.clock.advance(120_000);
    await bot.round(3);
    await bot.app.health!.deliverer.drain();
    const later = await bot.scrape();
    expect(later).toMatch(/^infrabot_alerts_firing\{cluster="api",severity="critical"\} 2$/m);
    expect(later).not.toMatch(/severity="warning"/);
    expect(later).not.toMatch(/^infrabot_outbox_pending_jobs\{/m);

    if (!hasPromtool) return;
    const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });

  it('every dashboard panel and alert rule queries metrics /metrics really exports', async () => {
    const bot = await busyBot();
    const exported = exportedNames(await bot.scrape());
    const dashboard = JSON.parse(readFileSync('deploy/grafana/infrabot.json', 'utf8')) as { panels: { type: string; title: string; targets?: { expr: string }[] }[] };
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) {
        const names = queriedNames(t.expr);
        expect(names.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const n of names) expect(exported.has(n), `${p.title}: ${n} is not exported`).toBe(true);
      }
    }
    const rules = parseYaml(readFileSync('deploy/prometheus/rules.yml', 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      for (const n of queriedNames(r.expr)) {
        expect(exported.has(n), `${r.alert}: ${n} is not exported`).toBe(true);
      }
    }
  });

  it.skipIf(!hasPromtool)('the rules file passes promtool check rules', () => {
    const res = spawnSync(PROMTOOL, ['check', 'rules', 'deploy/prometheus/rules.yml'], { encoding: 'utf8' });
    expect(res.stdout).toContain('SUCCESS: 5 rules found');
    expect(res.status).toBe(0);
  });
});
