/**
 * Health bench: (1) probe scheduler capacity — HTTP checks per second sustained against a loopback server
 * running in a child process, with this process's CPU %; (2) alert hand-off — time from the confirming
 * failed probe (the server answering 503) to the notification handed to the chat sink, p50/p95.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import type { ChatSink } from '../src/chat/chat-sink.js';
import { configSchema } from '../src/config/config-schema.js';
import { percentile } from '../src/store/sql-health-store.js';

const silent = pino({ level: 'error' }, pino.destination('/dev/null'));
const cluster = (checks: object[]) => ({ rateLimits: { perMinute: 10, perHour: 100, perDay: 1000 }, checks });

async function childServer(): Promise<{ port: number; stop(): void }> {
  const code = `require('node:http').createServer((q, s) => s.end('{"status":"ok"}')).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => child.stdout.once('data', (d: Buffer) => r(Number(String(d).trim()))));
  return { port, stop: () => child.kill() };
}

async function capacity(checksPerSecond: number, seconds: number) {
  const server = await childServer();
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-'));
  const n = checksPerSecond * 10; // 10 s interval
  const checks = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, type: 'http', url: `http://127.0.0.1:${server.port}/c${i}`, interval: '10s', timeout: '2s', degraded: { enabled: false } }));
  const config = configSchema.parse({ clusters: { fleet: cluster(checks) }, health: { concurrency: 256 } });
  const app = await createApp({ config, dataDir: join(dir, 'data'), keyDir: join(dir, 'keys'), env: {}, log: silent });
  const count = app.db!.prepare('SELECT COUNT(*) FROM check_results WHERE at >= ? AND at < ?').pluck();
  app.health!.start();
  const warm = 2000;
  await new Promise((r) => setTimeout(r, warm));
  const from = new Date();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const to = new Date();
  const done = count.get(from.toISOString(), to.toISOString()) as number;
  const failed = app.db!.prepare('SELECT COUNT(*) FROM check_results WHERE ok = 0').pluck().get() as number;
  await app.close();
  server.stop();
  rmSync(dir, { recursive: true, force: true });
  return { target: checksPerSecond, rate: done / (wall / 1000), cpuPct: (100 * (cpu.user + cpu.system)) / 1000 / wall, failed };
}

async function handoff(alerting: number, background: number) {
  const broken = new Map<string, number>(); // check → time the first 503 was served
  let failing = false;
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    if (failing && name.startsWith('a')) {
      if (!broken.has(name)) broken.set(name, performance.now());
      res.writeHead(503).end('{"status":"down"}');
    } else res.end('{"status":"ok"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-'));
  const clusters: Record<string, object> = {};
  // One cluster per alerting check, so each alert is its own notification (no grouping).
  for (let i = 0; i < alerting; i++) {
    clusters[`k${i}`] = cluster([{ name: `a${i}`, type: 'http', url: `http://127.0.0.1:${port}/a${i}`, interval: '10s', failureThreshold: 1, degraded: { enabled: false } }]);
  }
  clusters.background = cluster(Array.from({ length: background }, (_, i) => ({ name: `b${i}`, type: 'http', url: `http://127.0.0.1:${port}/b${i}`, interval: '10s', degraded: { enabled: false } })));
  const config = configSchema.parse({ clusters, alerts: { defaultChannels: { console: 'bench' } } });
  const app = await createApp({ config, dataDir: join(dir, 'data'), keyDir: join(dir, 'keys'), env: {}, log: silent });
  const handed: number[] = [];
  let n = 0;
  const sink: ChatSink = {
    platform: 'console',
    async post(channel, reply) {
      const check = /(a\d+) is DOWN/.exec(reply.title)?.[1];
      const t = check ? broken.get(check) : undefined;
      if (t !== undefined && !reply.title.includes('RESOLVED')) handed.push(performance.now() - t);
      return { platform: 'console', channel, messageId: `m${++n}` };
    },
    async update() {},
  };
  app.health!.deliverer.addSink(sink);
  app.health!.start();
  await new Promise((r) => setTimeout(r, 3000));
  failing = true;
  await new Promise((r) => setTimeout(r, 11_000));
  await app.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
  handed.sort((a, b) => a - b);
  return { alerts: handed.length, expected: alerting, p50: percentile(handed, 50)!, p95: percentile(handed, 95)!, max: handed.at(-1)! };
}

const f = (x: number, d = 0) => x.toFixed(d);
for (const target of [500, 2000]) {
  const r = await capacity(target, 6);
  console.log(`probe capacity: target ${r.target} HTTP checks/s → sustained ${f(r.rate)} checks/s, infrabot process CPU ${f(r.cpuPct)}% (of one core), failed probes ${r.failed}`);
}
const h = await handoff(100, 2000);
console.log(`alert hand-off (confirming failed probe → chat sink), ${h.alerts}/${h.expected} alerts under 200 background checks/s: p50 ${f(h.p50, 1)} ms, p95 ${f(h.p95, 1)} ms, max ${f(h.max, 1)} ms`);
console.log('targets: ≥ 500 checks/s sustained; hand-off p95 < 200 ms');
