/**
 * Runbooks bench: (1) time from `/infra deploy` to its first step starting, p50/p95, in-process (no Redis) and
 * through BullMQ with a worker in the same process; (2) runs per second through our worker (run record, lock,
 * heartbeat, progress) against a bare BullMQ worker doing the same step (one loopback HTTP call) in this run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { configSchema } from '../src/config/config-schema.js';
import { sql } from '../src/store/db/sql.js';
import { shortId } from '../src/util/ids.js';
import { redisPrefix, redisReachable } from '../test/helpers/redis.js';
import { fmt, line, summarize } from './stats.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = pino({ level: 'error' }, pino.destination('/dev/null'));
const server = createServer((_req, res) => res.end('ok'));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
const ENVS = Array.from({ length: 300 }, (_, i) => `e${i}`);

function config(redisPrefix?: string) {
  return configSchema.parse({
    clusters: { api: { rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 } } },
    admins: ['local:bench'],
    ...(redisPrefix ? { redis: { url: REDIS_URL, prefix: redisPrefix } } : {}),
    runbooks: { concurrency: 4, poll: '1s' },
    services: { shop: { cluster: 'api', envs: ENVS, runbooks: { deploy: { steps: [{ type: 'http', method: 'POST', url: hook }] } } } },
  });
}

async function withApp<T>(redisPrefix: string | undefined, fn: (app: Awaited<ReturnType<typeof createApp>>) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-'));
  const app = await createApp({ config: config(redisPrefix), dataDir: join(dir, 'data'), keyDir: join(dir, 'keys'), env: {}, log: silent, metrics: false });
  try {
    await app.runbooks.start({ worker: true });
    return await fn(app);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const user = { id: 'local:bench', displayName: 'bench' };

/** `/infra deploy` through the pipeline → the first step marked running, per deploy, one at a time. */
async function timeToFirstStep(redisPrefix: string | undefined, n: number) {
  return withApp(redisPrefix, async (app) => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = Date.now();
      const reply = await app.pipeline.handle({ id: shortId(16), platform: 'cli', user, text: `deploy shop 1.0.${i} --env ${ENVS[i]} --yes` });
      const id = (reply.data as { run: { id: string } }).run.id;
      for (;;) {
        const run = await app.runbooks.service.get(id);
        if (run?.steps[0]?.startedAt) {
          samples.push(Date.parse(run.steps[0].startedAt) - t0);
          break;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    await app.runbooks.idle();
    return summarize(samples.slice(5));
  });
}

/**
 * Runs per second through our worker: n runs queued first (each its own environment), then the worker starts
 * and the clock runs until every run record says finished.
 */
async function ourThroughput(prefix: string, n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-'));
  const app = await createApp({ config: config(prefix), dataDir: join(dir, 'data'), keyDir: join(dir, 'keys'), env: {}, log: silent, metrics: false });
  try {
    for (let i = 0; i < n; i++) {
      await app.runbooks.service.start({ service: 'shop', runbook: 'deploy', params: { version: '1.0.0' }, env: ENVS[i]!, user, platform: 'cli', traceId: 't', idempotencyKey: shortId(16) });
    }
    const t0 = performance.now();
    await app.runbooks.start({ worker: true });
    const succeeded = async () => Number((await app.runbooks.db.one<{ n: number }>(sql`SELECT COUNT(*) AS n FROM runbook_runs WHERE status = 'succeeded'`))!.n);
    while ((await succeeded()) < n) await new Promise((r) => setTimeout(r, 5));
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The peer: a bare BullMQ queue (jobs added first) and worker, same concurrency, making the same HTTP call. */
async function bareThroughput(prefix: string, n: number) {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('bare', { connection, prefix });
  await queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'run', data: { i }, opts: { jobId: `j${i}`, removeOnComplete: { count: 1000 } } })));
  let done = 0;
  let resolve!: () => void;
  const all = new Promise<void>((r) => (resolve = r));
  const t0 = performance.now();
  const worker = new Worker('bare', async () => {
    await (await fetch(hook, { method: 'POST' })).text();
  }, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: 4 });
  worker.on('completed', () => {
    if (++done === n) resolve();
  });
  await all;
  const rate = n / ((performance.now() - t0) / 1000);
  await worker.close();
  await queue.close();
  connection.disconnect();
  return rate;
}

const first = await timeToFirstStep(undefined, 60);
line('deploy → first step running, in-process', `p50 ${fmt(first.p50)} p95 ${fmt(first.p95)}`);
if (await redisReachable('the BullMQ figures')) {
  // One key prefix per measurement, each deleted afterwards (the same helper the tests use).
  const [viaBullKeys, bareKeys, ourKeys] = [redisPrefix(), redisPrefix(), redisPrefix()];
  try {
    const viaBull = await timeToFirstStep(viaBullKeys.prefix, 60);
    line('deploy → first step running, BullMQ', `p50 ${fmt(viaBull.p50)} p95 ${fmt(viaBull.p95)}`);
    const bare = await bareThroughput(bareKeys.prefix, 300);
    const ours = await ourThroughput(ourKeys.prefix, 300);
    line('bare BullMQ worker, 300 jobs (peer)', `${bare.toFixed(0)} jobs/s`);
    line('our runbook worker, 300 runs', `${ours.toFixed(0)} runs/s`);
    line('ours / bare BullMQ', `${((ours / bare) * 100).toFixed(0)} %`, '≥ 80 %', ours / bare >= 0.8);
  } finally {
    for (const keys of [viaBullKeys, bareKeys, ourKeys]) await keys.cleanup();
  }
}
server.close();
