/**
 * Slash-command ack latency through the real Bolt HTTP receiver: bursts of 200 concurrent signed
 * `/infra ratelimit set …` requests (each changes control state: real pipeline, engine and SQLite store,
 * audit chain included), then the same with read-only `status` to separate Bolt and the adapter from
 * commit contention. The load generator runs in a worker thread so it does not share the server's
 * event loop. Prints p50/p95/p99 per request and requests/s. Target: p99 < 100 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App as BoltApp, LogLevel } from '@slack/bolt';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { startSlackAdapter } from '../src/chat/slack/start-slack-adapter.js';
import { parseConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/log.js';
import { FakeSlack } from '../test/slack/fake-slack.js';
import { postSigned, slashCommandBody } from '../test/slack/slack-requests.js';
import { TEST_CONFIG } from '../test/helpers/test-app.js';

const SECRET = 'bench-signing-secret';
const CONCURRENCY = 200;
const ROUNDS = 15;
const WARMUP_ROUNDS = 2;
const CLUSTERS = ['api', 'web', 'db'];

/**
 * What each request runs; the first is the target scenario, the second isolates the adapter from the store,
 * the third is the peer: a bare Bolt app whose handler only acks, i.e. the floor any Bolt-based bot pays.
 */
const SCENARIOS = {
  'state-changing (ratelimit set)': (i: number) => `ratelimit set ${CLUSTERS[i % CLUSTERS.length]} --per-minute ${100 + (i % 800)}`,
  'read-only (status)': () => 'status',
  'peer: bare Bolt app, handler only acks': () => 'status',
} as const;
const PEER: ScenarioName = 'peer: bare Bolt app, handler only acks';
type ScenarioName = keyof typeof SCENARIOS;

interface LoadJob {
  url: string;
  peerUrl: string;
  responseUrl: string;
}
interface LoadResult {
  scenario: ScenarioName;
  latencies: number[];
  seconds: number;
  /** Acks that carried an error reply (e.g. "Internal error") instead of the command's answer. */
  failures: number;
  sample: string;
}

if (isMainThread) await runServer();
else await runLoad(workerData as LoadJob);

async function runServer() {
  const fake = await FakeSlack.start();
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-'));
  // Production-like logging: JSON at info, to a sink that discards it (no terminal in the measurement).
  const log = createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false }) });
  const app = await createApp({ config: parseConfig(TEST_CONFIG, 'bench.yaml', {}), dataDir: join(dir, 'data'), keyDir: join(dir, 'keys'), env: {}, log });
  await app.pipeline.handle({ id: 'grant', platform: 'console', user: { id: 'local:root-admin', displayName: 'root' }, text: 'role grant slack-group:SBENCH operator' });
  fake.userGroups = [{ id: 'SBENCH', handle: 'bench', users: Array.from({ length: CONCURRENCY }, (_, i) => `UB${i}`) }];
  const adapter = await startSlackAdapter({
    pipeline: app.pipeline,
    settings: { mode: 'http', botToken: 'xoxb-bench', signingSecret: SECRET, port: 0, apiUrl: fake.apiUrl },
    log,
  });
  const peer = new BoltApp({
    token: 'xoxb-bench', signingSecret: SECRET, clientOptions: { slackApiUrl: fake.apiUrl }, convoStore: false,
    deferInitialization: true, logLevel: LogLevel.ERROR,
  });
  peer.command('/infra', async ({ ack }) => ack({ response_type: 'ephemeral', text: 'ok' }));
  await peer.init();
  const peerServer = (await peer.start(0)) as Server;
  const peerPort = (peerServer.address() as AddressInfo).port;
  try {
    // Loader hooks (tsx) do not reach worker threads on Node 20: the worker registers tsx, then loads this file.
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(boot, {
      eval: true,
      workerData: {
        url: `http://127.0.0.1:${adapter.port}/slack/events`,
        peerUrl: `http://127.0.0.1:${peerPort}/slack/events`,
        responseUrl: fake.responseUrl('bench'),
      } satisfies LoadJob,
    });
    const results = await new Promise<LoadResult[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const events = (await app.store.events({})).filter((e) => e.event.type === 'ratelimit.set').length;
    console.log(`slash-command ack latency through the real Bolt HTTP receiver: ${ROUNDS} bursts of ${CONCURRENCY} concurrent signed requests`);
    for (const r of results) {
      const sorted = r.latencies.sort((a, b) => a - b);
      const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
      console.log(`\n  ${r.scenario}`);
      console.log(`    requests   ${sorted.length} measured (+${WARMUP_ROUNDS * CONCURRENCY} warm-up); ${r.failures} acked with an error reply`);
      console.log(`    latency    p50 ${pct(50).toFixed(1)} ms · p95 ${pct(95).toFixed(1)} ms · p99 ${pct(99).toFixed(1)} ms · max ${sorted.at(-1)!.toFixed(1)} ms`);
      console.log(`    throughput ${(sorted.length / r.seconds).toFixed(0)} requests/s`);
      console.log(`    last ack   ${r.sample}`);
      if (r.scenario === 'state-changing (ratelimit set)') {
        console.log(`    state      ${events} ratelimit.set events committed`);
        console.log(`    target     p99 < 100 ms with every command applied: ${pct(99) < 100 && r.failures === 0 ? 'met' : 'MISSED'}`);
      }
      if (r.failures > 0) process.exitCode = 1;
    }
    const p99 = (name: ScenarioName) => {
      const l = results.find((r) => r.scenario === name)!.latencies;
      return l[Math.min(l.length - 1, Math.ceil(0.99 * l.length) - 1)]!;
    };
    console.log(`\n  p99 ratio infrabot / bare Bolt: state-changing ${(p99('state-changing (ratelimit set)') / p99(PEER)).toFixed(2)}×, read-only ${(p99('read-only (status)') / p99(PEER)).toFixed(2)}×`);
  } finally {
    await peer.stop();
    await adapter.stop();
    await app.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runLoad(job: LoadJob) {
  let n = 0;
  const results: LoadResult[] = [];
  for (const [scenario, textOf] of Object.entries(SCENARIOS) as [ScenarioName, (i: number) => string][]) {
    const one = async () => {
      const i = n++;
      const body = slashCommandBody({
        text: textOf(i),
        user_id: `UB${i % CONCURRENCY}`,
        user_name: `bench${i % CONCURRENCY}`,
        trigger_id: `bench.${i}`,
        response_url: job.responseUrl,
      });
      const started = performance.now();
      const res = await postSigned(scenario === PEER ? job.peerUrl : job.url, body, { secret: SECRET });
      const ms = performance.now() - started;
      const ack = res.status === 200 ? res.json() : {};
      const outcomeOk = res.status === 200 && !/Internal error|Not allowed|Cannot do that/.test(String(ack.text));
      return { ms, ok: outcomeOk, text: String(ack.text ?? res.status) };
    };
    const burst = () => Promise.all(Array.from({ length: CONCURRENCY }, one));
    for (let r = 0; r < WARMUP_ROUNDS; r++) await burst();
    const latencies: number[] = [];
    let failures = 0;
    let sample = '';
    const t0 = performance.now();
    for (let r = 0; r < ROUNDS; r++) {
      for (const x of await burst()) {
        latencies.push(x.ms);
        if (!x.ok) failures++;
        sample = x.text.split('\n')[0]!;
      }
    }
    results.push({ scenario, latencies, seconds: (performance.now() - t0) / 1000, failures, sample });
  }
  parentPort!.postMessage(results);
}
