/**
 * Alert receiver bench: Alertmanager webhooks over real HTTP (loopback) into infrabot, through the engine's
 * alert path (SQLite commit, outbox) to the chat sink. (1) one alert per webhook, one after another:
 * received alerts/s and p50/p95 from sending the webhook to the message handed to the sink; (2) a 500-alert
 * storm in one webhook: time to its one grouped message. The peer measured in the same run is a bare fastify
 * route that parses the same webhook and answers 200 — the floor any receiver pays — so the ratio is what
 * infrabot's validation, commit and delivery add.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import type { ChatSink } from '../src/chat/chat-sink.js';
import { configSchema } from '../src/config/config-schema.js';
import { alertReceiverRoutes } from '../src/http/alert-receiver-routes.js';
import { fmt, line, summarize } from './stats.js';

const TOKEN = 'bench-token-0123456789abcdef';
const silent = pino({ level: 'error' }, pino.destination('/dev/null'));

const alert = (i: number, cluster: string) => ({
  status: 'firing',
  labels: { alertname: 'HighErrorRate', cluster, severity: 'critical', instance: `api-${i}:8080`, job: 'api' },
  annotations: { summary: `5xx above 5% on api-${i}`, runbook_url: 'https://runbooks.example.com/high-error-rate' },
  startsAt: new Date().toISOString(),
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus:9090/graph?g0.expr=errors',
  fingerprint: `f${i.toString(16).padStart(15, '0')}`,
});
const webhook = (alerts: ReturnType<typeof alert>[]) => ({
  receiver: 'infrabot', status: 'firing', alerts, groupLabels: {}, commonLabels: {}, commonAnnotations: {},
  externalURL: 'http://alertmanager:9093', version: '4', groupKey: '{}:{}', truncatedAlerts: 0,
});

async function infrabot() {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-'));
  const config = configSchema.parse({
    clusters: { api: { rateLimits: { perMinute: 10, perHour: 100, perDay: 1000 } } },
    health: { enabled: false },
    alerts: { defaultChannels: { console: 'bench' } },
    receivers: { alertmanager: { token: TOKEN } },
  });
  const app = await createApp({ config, dataDir: dir, log: silent });
  const handed = new Map<string, number>(); // title → time handed to the sink
  let n = 0;
  const sink: ChatSink = {
    platform: 'console',
    async post(channel, reply) {
      if (!handed.has(reply.title)) handed.set(reply.title, performance.now());
      return { platform: 'console', channel, messageId: `m${++n}` };
    },
    async update() {},
  };
  app.health!.deliverer.addSink(sink);
  app.health!.start();
  const server = Fastify({ bodyLimit: 16 * 1024 * 1024 });
  await server.register(alertReceiverRoutes, { config: app.config.receivers, receive: (a) => app.health!.receiveAlerts(a) });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/api/alerts/alertmanager`;
  return {
    url,
    handed,
    async close() {
      await server.close();
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function bare() {
  const server = Fastify({ bodyLimit: 16 * 1024 * 1024 });
  server.post('/api/alerts/alertmanager', async () => ({ ok: true }));
  await server.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/api/alerts/alertmanager`, close: () => server.close() };
}

const send = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
};

const until = async (done: () => boolean, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out waiting for the sink');
    await new Promise((r) => setTimeout(r, 1));
  }
};

async function oneByOne(count: number) {
  const bot = await infrabot();
  const sentAt = new Map<string, number>();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    // One cluster each, so each alert is its own message (nothing grouped away).
    const cluster = `c${i}`;
    sentAt.set(`🚨 ${cluster}: 5xx above 5% on api-${i}`, performance.now());
    await send(bot.url, webhook([alert(i, cluster)]));
  }
  await until(() => bot.handed.size >= count);
  const wall = performance.now() - t0;
  const latencies = [...sentAt].map(([title, at]) => bot.handed.get(title)! - at);
  await bot.close();
  return { rate: count / (wall / 1000), ...summarize(latencies) };
}

async function storm(size: number) {
  const bot = await infrabot();
  const alerts = Array.from({ length: size }, (_, i) => alert(i, 'api'));
  const t0 = performance.now();
  await send(bot.url, webhook(alerts));
  await until(() => bot.handed.size >= 1);
  const ms = [...bot.handed.values()][0]! - t0;
  const messages = bot.handed.size;
  await bot.close();
  return { ms, rate: size / (ms / 1000), messages };
}

async function peer(count: number, stormSize: number) {
  const p = await bare();
  let t0 = performance.now();
  for (let i = 0; i < count; i++) await send(p.url, webhook([alert(i, `c${i}`)]));
  const oneRate = count / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  await send(p.url, webhook(Array.from({ length: stormSize }, (_, i) => alert(i, 'api'))));
  const stormMs = performance.now() - t0;
  await p.close();
  return { oneRate, stormMs };
}

const COUNT = 500;
const STORM = 500;
await oneByOne(50); // warm-up (JIT, SQLite page cache)
const base = await peer(COUNT, STORM);
const one = await oneByOne(COUNT);
const s = await storm(STORM);
line('received alerts/s, one per webhook → chat sink', `${one.rate.toFixed(0)}/s`);
line('  bare fastify parsing the same webhooks (peer)', `${base.oneRate.toFixed(0)}/s`);
line('  infrabot / peer', `${(one.rate / base.oneRate).toFixed(2)}×`);
line('webhook sent → handed to chat sink', `p50 ${fmt(one.p50)}, p95 ${fmt(one.p95)}`, '< 100 ms p95', one.p95 < 100);
line(`${STORM}-alert storm in one webhook → sink`, `${fmt(s.ms)} (${s.rate.toFixed(0)} alerts/s)`);
line('  bare fastify parsing the same storm (peer)', fmt(base.stormMs));
line('  messages posted for the storm', String(s.messages), '1', s.messages === 1);
