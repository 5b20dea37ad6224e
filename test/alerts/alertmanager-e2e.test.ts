import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackSink } from '../../src/chat/slack/slack-sink.js';
import { alertReceiverRoutes } from '../../src/http/alert-receiver-routes.js';
import { createLogger } from '../../src/log.js';
import { eventually } from '../helpers/redis.js';
import { logSink, manualClock } from '../helpers/test-app.js';
import { BASE_CONFIG, cluster, healthApp } from '../health/health-helpers.js';
import { FakeSlack } from '../slack/fake-slack.js';
import { BOT_TOKEN } from '../slack/slack-harness.js';

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const available = existsSync(ALERTMANAGER);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${ALERTMANAGER} is missing: .ci/run installs the Debian package "prometheus-alertmanager"`);
  console.warn(`SKIPPING the Alertmanager end-to-end test: install the Debian package "prometheus-alertmanager" (${ALERTMANAGER})`);
}

const TOKEN = 'e2e-alertmanager-token-0123456789';
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startAlertmanager(webhookUrl: string, port?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-am-'));
  port ??= await freePort();
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:
  receiver: infrabot
  group_by: [alertname, cluster]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: infrabot
    webhook_configs:
      - url: ${webhookUrl}
        send_resolved: true
        http_config:
          authorization:
            credentials: ${TOKEN}
`,
  );
  const proc: ChildProcess = spawn(
    ALERTMANAGER,
    [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  cleanups.push(async () => {
    // Alertmanager writes its state on the way out: remove its directory only once it has gone.
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.ok === true, 10_000, `Alertmanager to start (${stderr})`);
  const postAlerts = async (alerts: unknown[]) => {
    const res = await fetch(`${base}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    expect(`${res.status} ${await res.text()}`).toMatch(/^200/);
  };
  const silences = async () => (await (await fetch(`${base}/api/v2/silences`)).json()) as { id: string; status: { state: string }; matchers: { name: string; value: string }[]; comment: string }[];
  return { postAlerts, silences, base };
}

describe.skipIf(!available)('the real Alertmanager → infrabot → Slack', () => {
  it('a firing alert is posted to Slack and its resolve updates that message in place', async () => {
    const fake = await FakeSlack.start();
    cleanups.push(() => fake.close());
    const h = await healthApp(BASE_CONFIG(cluster('api', []), `alerts: { defaultChannels: { slack: CALERTS } }\nreceivers: { alertmanager: { token: ${TOKEN} } }`));
    cleanups.push(() => h.app.cleanup());
    h.app.health!.deliverer.addSink(new SlackSink({ botToken: BOT_TOKEN, apiUrl: fake.apiUrl, log: createLogger({ level: 'warn', destination: logSink().stream }) }));
    h.app.health!.deliverer.start();
    const server = Fastify();
    await server.register(alertReceiverRoutes, { config: h.app.config.receivers, receive: (a) => h.app.health!.receiveAlerts(a) });
    await server.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => server.close());
    const am = await startAlertmanager(`http://127.0.0.1:${(server.server.address() as AddressInfo).port}/api/alerts/alertmanager`);

    const alert = {
      labels: { alertname: 'HighErrorRate', cluster: 'api', severity: 'critical', instance: 'api-1:8080' },
      annotations: { summary: '5xx above 5% on api-1', runbook_url: 'https://runbooks.example.com/high-error-rate' },
      generatorURL: 'http://prometheus:9090/graph?g0.expr=errors',
      startsAt: new Date(Date.now() - 60_000).toISOString(),
    };
    await am.postAlerts([alert]);
    await eventually(() => fake.callsTo('chat.postMessage').length > 0, 10_000, 'the firing alert in Slack');
    const [post] = fake.callsTo('chat.postMessage');
    expect(post!.params.channel).toBe('CALERTS');
    const blocks = JSON.stringify(post!.params.blocks);
    expect(blocks).toContain('api: 5xx above 5% on api-1');
    expect(blocks).toContain('https://runbooks.example.com/high-error-rate');

    await am.postAlerts([{ ...alert, endsAt: new Date(Date.now() - 1000).toISOString() }]);
    await eventually(() => fake.callsTo('chat.update').some((c) => JSON.stringify(c.params.blocks).includes('RESOLVED')), 15_000, 'the resolve in Slack');
    const update = fake.callsTo('chat.update').find((c) => JSON.stringify(c.params.blocks).includes('RESOLVED'))!;
    expect(await h.app.health!.health.alerts({ status: 'firing' })).toHaveLength(0);
    // In place: the update edits the message the firing alert was posted as, and no second message appeared.
    const [resolved] = await h.app.health!.health.alerts({ status: 'resolved' });
    const [delivery] = await h.app.health!.health.deliveries(resolved!.notificationId!);
    expect(update.params.ts).toBe(delivery!.messageId);
    expect(fake.callsTo('chat.postMessage').filter((c) => !c.params.thread_ts)).toHaveLength(1);
  }, 30_000);

  it('`alert silence` on a received alert creates the silence in Alertmanager too', async () => {
    const hookPort = await freePort();
    const amPort = await freePort();
    // Alertmanager refuses silences ending in the past: the bot's clock is the real time here.
    const h = await healthApp(BASE_CONFIG(cluster('api', []), `receivers: { alertmanager: { token: ${TOKEN}, url: "http://127.0.0.1:${amPort}" } }`), { clock: manualClock(new Date().toISOString()) });
    cleanups.push(() => h.app.cleanup());
    const server = Fastify();
    await server.register(alertReceiverRoutes, { config: h.app.config.receivers, receive: (a) => h.app.health!.receiveAlerts(a) });
    await server.listen({ port: hookPort, host: '127.0.0.1' });
    cleanups.push(() => server.close());
    const am = await startAlertmanager(`http://127.0.0.1:${hookPort}/api/alerts/alertmanager`, amPort);
    await am.postAlerts([{ labels: { alertname: 'DiskFull', cluster: 'api', instance: 'db-1' }, annotations: { summary: 'Disk 95% full on db-1' }, startsAt: new Date().toISOString() }]);
    await eventually(async () => (await h.app.health!.health.alerts({ status: 'firing' })).length === 1, 10_000, 'the alert to arrive');
    const [alert] = await h.app.health!.health.alerts({ status: 'firing' });
    await h.app.health!.deliverer.drain();
    // The message's silence button silences this alert by name, not the whole cluster.
    expect(h.sink.posts()[0]!.reply.hint).toContain(`alert silence ${alert!.id} --for 1h`);
    const reply = await h.app.run(`alert silence ${alert!.id} --for 2h --reason "disk cleanup running"`);
    expect(reply.outcome).toBe('ok');
    expect(reply.text).toMatch(/Silenced in Alertmanager too \(silence [0-9a-f-]{36}\)/);
    const [silence] = (await am.silences()).filter((s) => s.status.state === 'active');
    expect(silence!.matchers.map((m) => `${m.name}=${m.value}`).sort()).toEqual(['alertname=DiskFull', 'cluster=api', 'instance=db-1']);
    expect(silence!.comment).toContain('disk cleanup running');
    // And infrabot holds back further notifications of that alert name.
    expect((await h.app.health!.alerts.heldBy('api', 'DiskFull'))).toMatch(/^silence .* \(disk cleanup running\)$/);
  }, 30_000);

  it('`alert silence` says so when Alertmanager cannot be reached, and still silences in infrabot', async () => {
    const deadPort = await freePort();
    const h = await healthApp(BASE_CONFIG(cluster('api', []), `receivers: { alertmanager: { token: ${TOKEN}, url: "http://127.0.0.1:${deadPort}" } }`));
    cleanups.push(() => h.app.cleanup());
    await h.app.health!.receiveAlerts([{ status: 'firing', name: 'DiskFull', cluster: 'api', severity: 'warning', summary: 'Disk full', external: { source: 'alertmanager', fingerprint: 'ab12', labels: { alertname: 'DiskFull' }, links: [] } }]);
    const [alert] = await h.app.health!.health.alerts({ status: 'firing' });
    const reply = await h.app.run(`alert silence ${alert!.id} --reason "cleanup"`);
    expect(reply.outcome).toBe('ok');
    expect(reply.text).toContain(`⚠️ Not silenced in Alertmanager: Alertmanager at http://127.0.0.1:${deadPort} did not answer`);
    expect(await h.app.health!.alerts.heldBy('api', 'DiskFull')).toMatch(/^silence /);
  });
});
