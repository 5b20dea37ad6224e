/**
 * HTTP control API throughput and latency on a real port: `GET /api/control` (status: API-key check, the
 * full command pipeline with its audit record, response validated against the data schema) and
 * `POST /api/control/cluster/:id/rate-limit` (a state change: events, state and audit in one transaction),
 * against a bare fastify route returning a constant in the same run (the floor of any fastify API).
 * `POST /api/control/check` (the guard decision for services in other languages: key check, snapshot lookup,
 * in-process rate limit per tenant as in the embedded default) is measured too. The load generator runs in a
 * worker thread with keep-alive connections, so it does not share the server's event loop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Fastify from 'fastify';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config/load-config.js';
import { createHttpServer } from '../src/http/create-http-server.js';
import { createLogger } from '../src/log.js';
import { TEST_CONFIG } from '../test/helpers/test-app.js';

const CONCURRENCY = 32;
const SECONDS = 4;
const WARMUP_SECONDS = 2;

interface Scenario {
  name: string;
  port: number;
  kind: keyof typeof REQUESTS;
  token?: string;
}

const CLUSTERS = ['api', 'web', 'db'];
/** The i-th request of each kind (plain data crosses to the worker; these functions live on both sides). */
const REQUESTS = {
  control: () => ({ method: 'GET', path: '/api/control' }),
  ratelimit: (i: number) => ({ method: 'POST', path: `/api/control/cluster/${CLUSTERS[i % 3]}/rate-limit`, body: JSON.stringify({ perMinute: 50 + (i % 50) }) }),
  // Tenants spread so the in-process rate limit (600/min per tenant on api) does not turn this into a denial bench.
  check: (i: number) => ({ method: 'POST', path: '/api/control/check', body: JSON.stringify({ cluster: 'api', service: 'bench', key: `t${i % 5000}` }) }),
  bare: () => ({ method: 'GET', path: '/bare' }),
} satisfies Record<string, (i: number) => { method: string; path: string; body?: string }>;
interface Result {
  name: string;
  latencies: number[];
  seconds: number;
  failures: number;
  sample: string;
}

if (isMainThread) await runServers();
else parentPort!.postMessage(await runLoad(workerData as Scenario[]));

async function runServers() {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-http-'));
  const log = createLogger({ level: 'warn', destination: pino.destination({ dest: join(dir, 'bench.log'), sync: false }) });
  const app = await createApp({ config: parseConfig(TEST_CONFIG, 'bench.yaml', {}), dataDir: dir, log });
  const api = await createHttpServer({ app, perMinute: 1_000_000_000 });
  const bare = Fastify();
  bare.get('/bare', async () => ({ data: { ok: true }, traceId: 'x' }));
  const apiUrl = new URL(await api.listen({ host: '127.0.0.1', port: 0 }));
  const bareUrl = new URL(await bare.listen({ host: '127.0.0.1', port: 0 }));
  const created = await app.pipeline.handle({ id: 'bench-key', platform: 'cli', user: { id: 'local:root-admin', displayName: 'bench' }, text: 'apikey create bench --role admin' });
  const token = (created.data as { token: string }).token;
  const scenarios: Scenario[] = [
    { name: 'GET /api/control (status through the pipeline)', port: Number(apiUrl.port), kind: 'control', token },
    { name: 'POST /api/control/cluster/:id/rate-limit (state change)', port: Number(apiUrl.port), kind: 'ratelimit', token },
    { name: 'POST /api/control/check (guard decision over HTTP)', port: Number(apiUrl.port), kind: 'check', token },
    { name: 'peer: bare fastify route, constant JSON', port: Number(bareUrl.port), kind: 'bare' },
  ];
  const results = await new Promise<Result[]>((resolve, reject) => {
    // Loader hooks (tsx) do not reach worker threads on Node 20: the worker registers tsx, then loads this file.
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const w = new Worker(boot, { eval: true, workerData: scenarios });
    w.once('message', resolve);
    w.once('error', reject);
  });
  const peer = results.find((r) => r.name.startsWith('peer'))!;
  const rate = (r: Result) => r.latencies.length / r.seconds;
  const pct = (r: Result, p: number) => {
    const s = [...r.latencies].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  };
  console.log(`${CONCURRENCY} keep-alive connections, ${SECONDS}s per scenario after ${WARMUP_SECONDS}s warm-up`);
  for (const r of results) {
    const ratio = r === peer ? '' : `  (${((100 * rate(r)) / rate(peer)).toFixed(0)}% of the bare route's req/s, p99 ×${(pct(r, 99) / pct(peer, 99)).toFixed(1)})`;
    console.log(
      `${r.name.padEnd(58)} ${Math.round(rate(r)).toLocaleString('en-US').padStart(7)} req/s  p50 ${pct(r, 50).toFixed(2)} ms  p99 ${pct(r, 99).toFixed(2)} ms${r.failures ? `  FAILURES ${r.failures}: ${r.sample}` : ''}${ratio}`,
    );
  }
  await api.close();
  await bare.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  if (results.some((r) => r.failures)) process.exitCode = 1;
}

async function runLoad(scenarios: Scenario[]): Promise<Result[]> {
  const out: Result[] = [];
  for (const s of scenarios) {
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    await drive(s, agent, WARMUP_SECONDS);
    out.push(await drive(s, agent, SECONDS));
    agent.destroy();
  }
  return out;
}

async function drive(s: Scenario, agent: Agent, seconds: number): Promise<Result> {
  const latencies: number[] = [];
  let failures = 0;
  let sample = '';
  let i = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const one = () =>
    new Promise<void>((done) => {
      const r: { method: string; path: string; body?: string } = REQUESTS[s.kind](i++);
      const body = r.body;
      const t0 = performance.now();
      const req = request(
        {
          agent, host: '127.0.0.1', port: s.port, method: r.method, path: r.path,
          headers: { ...(s.token ? { authorization: `Bearer ${s.token}` } : {}), ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            latencies.push(performance.now() - t0);
            if (res.statusCode !== 200) {
              failures++;
              sample ||= `${res.statusCode} ${text.slice(0, 200)}`;
            }
            done();
          });
        },
      );
      req.on('error', (err) => {
        failures++;
        sample ||= err.message;
        done();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) await one();
    }),
  );
  return { name: s.name, latencies, seconds: (performance.now() - started) / 1000, failures, sample };
}
