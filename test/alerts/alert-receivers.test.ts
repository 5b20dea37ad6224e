import { createHmac } from 'node:crypto';
import swagger from '@fastify/swagger';
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { afterEach, describe, expect, it } from 'vitest';
import { alertReceiverRoutes } from '../../src/http/alert-receiver-routes.js';
import { BASE_CONFIG, cluster, healthApp } from '../health/health-helpers.js';
import { amAlert, amWebhook, grafanaWebhook, highErrors } from './receiver-payloads.js';

const AM_TOKEN = 'am-token-0123456789abcdef';
const GRAFANA_SECRET = 'grafana-hmac-0123456789abcdef';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const RECEIVERS = `
receivers:
  alertmanager: { token: ${AM_TOKEN} }
  grafana: { hmacSecret: ${GRAFANA_SECRET} }
  incidents:
    - { match: { severity: critical, team: payments }, sev: 2 }
`;

async function setup(extra = '') {
  const h = await healthApp(BASE_CONFIG([cluster('api', []), cluster('web', [])].join('\n'), RECEIVERS + extra));
  const server = Fastify();
  await server.register(alertReceiverRoutes, { config: h.app.config.receivers, receive: (a) => h.app.health!.receiveAlerts(a), now: () => h.clock.now().getTime() });
  cleanups.push(() => h.app.cleanup(), () => server.close());
  const post = async (path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${AM_TOKEN}` }) => {
    const res = await server.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json', ...headers }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
    await h.app.health!.deliverer.drain();
    return { status: res.statusCode, body: res.json() as Record<string, unknown> & { error?: { code: string; message: string } } };
  };
  const am = (body: unknown, headers?: Record<string, string>) => post('/api/alerts/alertmanager', body, headers);
  return { ...h, server, post, am };
}

describe('Alertmanager receiver', () => {
  it('posts a grouped firing message with the runbook and source as link buttons; a retry changes nothing', async () => {
    const s = await setup();
    const res = await s.am(amWebhook([highErrors('a1'), highErrors('a2')]));
    expect(res).toMatchObject({ status: 200, body: { received: 2, fired: 2, resolved: 0, unchanged: 0 } });
    expect(s.sink.posts()).toHaveLength(1);
    const msg = s.sink.posts()[0]!.reply;
    expect(msg.title).toBe('🚨 api: 2 alerts firing');
    expect(msg.text).toContain('5xx above 5% on api-a1');
    expect(msg.text).toContain('HighErrorRate from alertmanager');
    expect(msg.links).toEqual([
      { label: 'Runbook', url: 'https://runbooks.example.com/high-error-rate' },
      { label: 'Source', url: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1' },
    ]);
    expect(msg.severity).toBe('critical');

    // Alertmanager retries on timeouts: the same webhook again is deduplicated by fingerprint.
    const again = await s.am(amWebhook([highErrors('a1'), highErrors('a2')]));
    expect(again.body).toMatchObject({ fired: 0, unchanged: 2 });
    expect(s.sink.calls).toHaveLength(1);
    expect(await s.app.health!.health.alerts({ status: 'firing' })).toHaveLength(2);
  });

  it('a resolve updates the message in place and says so once in its thread', async () => {
    const s = await setup();
    await s.am(amWebhook([highErrors('a1'), highErrors('a2')]));
    s.clock.advance(60_000);
    const res = await s.am(amWebhook([highErrors('a1', 'resolved'), highErrors('a2', 'resolved')]));
    expect(res.body).toMatchObject({ resolved: 2 });
    const [posted] = s.sink.posts();
    const updates = s.sink.updates(posted!.messageId);
    expect(updates.at(-1)!.reply.title).toBe('✅ RESOLVED · api: all 2 alerts resolved');
    expect(updates.at(-1)!.reply.buttons).toBeUndefined();
    const replies = s.sink.threadReplies();
    expect(replies.map((r) => r.reply.title)).toEqual(['✅ Resolved: 2 alerts']);
    // A resolve retried, or of an alert never seen, is a no-op.
    expect((await s.am(amWebhook([highErrors('a1', 'resolved'), highErrors('zz', 'resolved')]))).body).toMatchObject({ resolved: 0, unchanged: 2 });
  });

  it('times an alert by the sender: firing since its startsAt, resolved in Alertmanager after endsAt − startsAt', async () => {
    const s = await setup();
    // startsAt 02:59:30; infrabot hears of it at 03:00:00.
    await s.am(amWebhook([highErrors('a1')]));
    const [posted] = s.sink.posts();
    expect(posted!.reply.text).toContain('(firing for 30s)');
    // The resolve (endsAt 03:05:00) arrives late, at 03:07:00.
    s.clock.set('2026-11-21T03:07:00.000Z');
    await s.am(amWebhook([highErrors('a1', 'resolved')]));
    const text = s.sink.updates(posted!.messageId).at(-1)!.reply.text!;
    expect(text).toContain('HighErrorRate resolved in Alertmanager after 5m30s');
    expect(text).not.toContain('by hand');
    const [list] = (await s.app.run('alert list --resolved')).table!.rows;
    expect(list).toContain('5m30s');
  });

  it('a storm of 500 alerts in one webhook becomes one message listing some and counting the rest', async () => {
    const s = await setup();
    const storm = Array.from({ length: 500 }, (_, i) => highErrors(`s${i}`));
    const res = await s.am(amWebhook(storm, { truncatedAlerts: 37 }));
    expect(res.body).toMatchObject({ fired: 500 });
    expect(s.sink.posts()).toHaveLength(1);
    expect(s.sink.calls).toHaveLength(1);
    const msg = s.sink.posts()[0]!.reply;
    expect(msg.title).toBe('🚨 api: 500 alerts firing');
    expect(msg.text).toContain('… and 475 more');
    expect(msg.text).toContain('37 more alerts were left out by the sender (truncatedAlerts)');
    // Buttons name the notification, not 500 alert ids.
    expect(msg.hint!.length).toBeLessThan(300);
  });

  it('maps a label-less alert to the default cluster as a warning named "alert"', async () => {
    const s = await setup();
    await s.am(amWebhook([amAlert({ fingerprint: 'f00' })]));
    const [a] = await s.app.health!.health.alerts({ status: 'firing' });
    expect(a).toMatchObject({ cluster: 'external', severity: 'warning', check: 'alert', summary: 'alert', kind: 'external' });
    expect(s.sink.posts()[0]!.reply.title).toBe('⚠️ external: alert');
  });

  it('maps cluster and severity from the configured label names', async () => {
    const s = await setup('  labels: { cluster: k8s_cluster, severity: level }\n  critical: [P1]\n');
    await s.am(amWebhook([amAlert({ fingerprint: 'x1', labels: { alertname: 'NodeDown', k8s_cluster: 'web', level: 'P1' } })]));
    const [a] = await s.app.health!.health.alerts({ status: 'firing' });
    expect(a).toMatchObject({ cluster: 'web', severity: 'critical' });
  });

  it('only http(s) links become buttons: a javascript: runbook from a label is dropped', async () => {
    const s = await setup();
    await s.am(amWebhook([amAlert({ fingerprint: 'j1', labels: { alertname: 'X', cluster: 'api' }, annotations: { runbook_url: 'javascript:alert(1)' } })]));
    expect(s.sink.posts()[0]!.reply.links).toEqual([{ label: 'Source', url: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1' }]);
  });

  it('refuses a missing or wrong token with 401 and changes nothing', async () => {
    const s = await setup();
    for (const headers of <Record<string, string>[]>[{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: AM_TOKEN }]) {
      const res = await s.am(amWebhook([highErrors('a1')]), headers);
      expect(res.status).toBe(401);
      expect(res.body.error!.code).toBe('infra_unauthorized');
    }
    expect(await s.app.health!.health.alerts({})).toHaveLength(0);
    expect(s.sink.calls).toHaveLength(0);
  });

  it('refuses malformed bodies with 400 naming the field', async () => {
    const s = await setup();
    const noFingerprint = amWebhook([highErrors('a1')]) as { alerts: Record<string, unknown>[] };
    delete noFingerprint.alerts[0]!.fingerprint;
    let res = await s.am(noFingerprint);
    expect(res.status).toBe(400);
    expect(res.body.error!.message).toMatch(/^alerts\.0\.fingerprint: /);
    res = await s.am({ ...amWebhook([highErrors('a1')]), version: '3' });
    expect(res.status).toBe(400);
    expect(res.body.error!.message).toContain('version: only Alertmanager webhook payload version "4"');
    res = await s.am('{"version": "4", ');
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'infra_invalid_json' } } });
    expect(await s.app.health!.health.alerts({})).toHaveLength(0);
  });

  it('silences and maintenance apply: a held alert is recorded, not shown, and notified when the silence ends', async () => {
    const s = await setup();
    expect((await s.app.run('silence api --for 1h --reason "known"')).outcome).toBe('ok');
    await s.am(amWebhook([highErrors('a1')]));
    expect(s.sink.calls).toHaveLength(0);
    const [a] = await s.app.health!.health.alerts({ status: 'firing' });
    expect(a!.heldBy).toMatch(/^silence .* \(known\)/);
    // Silencing the received alert by its name works too (its cluster need not be configured).
    await s.am(amWebhook([amAlert({ fingerprint: 'e1', labels: { alertname: 'Watchdog', cluster: 'elsewhere' } })]));
    expect(s.sink.posts()).toHaveLength(1);
    expect((await s.app.run('silence Watchdog --for 1h --reason noisy')).outcome).toBe('ok');
    // `alert list --cluster` accepts a cluster only received alerts name.
    expect((await s.app.run('alert list --cluster elsewhere')).table!.rows.map((r) => r[2])).toEqual(['Watchdog']);
    expect((await s.app.run('alert list --cluster nowhere')).outcome).toBe('invalid');
    expect((await s.app.run('silence end api')).outcome).toBe('ok');
    await s.round();
    expect(s.sink.posts().map((p) => p.reply.title)).toEqual(['⚠️ elsewhere: Watchdog', '🚨 api: 5xx above 5% on api-a1']);
  });

  it('alerts matching a configured incident rule open one incident for their cluster, with the alert in its timeline', async () => {
    const s = await setup();
    await s.am(amWebhook([highErrors('p1', 'firing', { team: 'payments' }), highErrors('p2', 'firing', { team: 'payments' }), highErrors('o1')]));
    const incidents = await s.app.health!.health.incidents({ open: true });
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ sev: 2, cluster: 'api', title: '5xx above 5% on api-p1' });
  });
});

describe('Grafana receiver', () => {
  const sign = (body: string, ts?: string) => createHmac('sha256', GRAFANA_SECRET).update(ts ? `${ts}:${body}` : body).digest('hex');

  it('accepts a signed webhook and shows the panel image and dashboard links', async () => {
    const s = await setup();
    const body = JSON.stringify(grafanaWebhook());
    const res = await s.post('/api/alerts/grafana', body, { 'x-grafana-alerting-signature': sign(body) });
    expect(res).toMatchObject({ status: 200, body: { fired: 1 } });
    const msg = s.sink.posts()[0]!.reply;
    expect(msg.title).toBe('⚠️ web: Disk 93% full on web-1');
    expect(msg.imageUrl).toBe('https://grafana.example.com/public/img/attachments/abc.png');
    expect(msg.links!.map((l) => l.label)).toEqual(['Dashboard', 'Panel', 'Source', 'Silence in Grafana']);
    const resolved = JSON.stringify(grafanaWebhook('resolved'));
    s.clock.set('2026-11-21T03:20:00.000Z');
    await s.post('/api/alerts/grafana', resolved, { 'x-grafana-alerting-signature': sign(resolved) });
    expect(s.sink.updates().at(-1)!.reply.title).toBe('✅ RESOLVED · web: DiskFull');
    // startsAt 02:58, endsAt 03:10: the sender's times, not when the webhooks arrived.
    expect(s.sink.updates().at(-1)!.reply.text).toContain('DiskFull resolved in Grafana after 12m');
  });

  it('refuses a bad, missing or replayed signature with 401 and changes nothing', async () => {
    const s = await setup();
    const body = JSON.stringify(grafanaWebhook());
    const old = String(Math.floor(s.clock.now().getTime() / 1000) - 600);
    for (const headers of <Record<string, string>[]>[{}, { 'x-grafana-alerting-signature': sign(body + ' ') }, { 'x-grafana-alerting-signature': sign(body, old), 'x-grafana-alerting-timestamp': old }]) {
      expect((await s.post('/api/alerts/grafana', body, headers)).status).toBe(401);
    }
    const now = String(Math.floor(s.clock.now().getTime() / 1000));
    expect((await s.post('/api/alerts/grafana', body, { 'x-grafana-alerting-signature': sign(body, now), 'x-grafana-alerting-timestamp': now })).status).toBe(200);
  });

  it('with a bearer token configured, Grafana must send it; a failure inside infrabot is a 503 the sender retries', async () => {
    let fail = false;
    const h = await healthApp(BASE_CONFIG(cluster('web', []), 'receivers: { grafana: { token: grafana-token-0123456789ab } }'));
    const server = Fastify();
    await server.register(alertReceiverRoutes, {
      config: h.app.config.receivers,
      receive: async (a) => {
        if (fail) throw new Error('database is locked');
        return h.app.health!.receiveAlerts(a);
      },
    });
    cleanups.push(() => h.app.cleanup(), () => server.close());
    const send = (auth?: string) => server.inject({ method: 'POST', url: '/api/alerts/grafana', headers: auth ? { authorization: auth } : {}, payload: grafanaWebhook() });
    expect((await send()).statusCode).toBe(401);
    expect((await send('Bearer grafana-token-0123456789ab')).statusCode).toBe(200);
    fail = true;
    const res = await send('Bearer grafana-token-0123456789ab');
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatchObject({ code: 'infra_internal', message: expect.stringMatching(/^receiving the alerts failed; the sender will retry \(ref [\w-]+\)$/) });
    expect(res.body).not.toContain('database is locked');
  });

  it('a receiver with no credentials configured is off (404), never open', async () => {
    const h = await healthApp(BASE_CONFIG(cluster('api', [])));
    const server = Fastify();
    await server.register(alertReceiverRoutes, { config: h.app.config.receivers, receive: (a) => h.app.health!.receiveAlerts(a) });
    cleanups.push(() => h.app.cleanup(), () => server.close());
    const res = await server.inject({ method: 'POST', url: '/api/alerts/alertmanager', payload: amWebhook([highErrors('a1')]) });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toContain('receivers.alertmanager.token');
  });
});

describe('OpenAPI', () => {
  it('the receivers are described by a valid OpenAPI document generated from their zod schemas', async () => {
    const h = await healthApp(BASE_CONFIG(cluster('api', []), RECEIVERS));
    const server = Fastify();
    await server.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'infrabot', version: '0' } }, transform: jsonSchemaTransform });
    await server.register(alertReceiverRoutes, { config: h.app.config.receivers, receive: (a) => h.app.health!.receiveAlerts(a) });
    await server.ready();
    cleanups.push(() => h.app.cleanup(), () => server.close());
    const doc = server.swagger() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/alerts/alertmanager', '/api/alerts/grafana']);
    const result = await new Validator().validate(doc as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
