/**
 * Interaction response latency on the Discord HTTP endpoint: signed slash commands (status, cluster list,
 * whoami) through signature check → pipeline (audited in SQLite) → embed rendering → inline response, with
 * 200 requests in flight. The load client runs in a child process (two cores: one each), signing ahead of time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startDiscordAdapter } from '../src/chat/discord/discord-adapter.js';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/log.js';
import { TEST_CONFIG } from '../test/helpers/test-app.js';
import { Writable } from 'node:stream';
import { slashCommand } from '../test/discord/interactions.js';
import { makeSigningKey, signedHeaders } from '../test/discord/signing.js';
import { fmt, line, summarize } from './stats.js';

const CONCURRENCY = 200;
const TOTAL = Number(process.env.BENCH_DISCORD_REQUESTS ?? 10_000);
const WARMUP = 1000;
const USER = '2200000000000000001';


/** Client side: signs the requests ahead of time (Discord signs, not us), keeps 200 in flight, prints JSON. */
async function client(url: string, privateKey: KeyObject) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const post = (body: string, headers: Record<string, string>) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const commands = [
    () => slashCommand('status', undefined, [], { userId: USER }),
    () => slashCommand('cluster', 'list', [], { userId: USER }),
    () => slashCommand('whoami', undefined, [], { userId: USER }),
  ];
  const prepare = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const body = JSON.stringify(commands[i % commands.length]!());
      return { body, headers: signedHeaders(privateKey, body) };
    });
  async function run(requests: ReturnType<typeof prepare>) {
    const latencies: number[] = [];
    let next = 0;
    let failures = 0;
    const worker = async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        const t0 = performance.now();
        const res = await post(r.body, r.headers);
        latencies.push(performance.now() - t0);
        if (res.status !== 200 || (JSON.parse(res.text) as { type?: number }).type !== 4) failures++;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return { latencies, failures, seconds: (performance.now() - t0) / 1000 };
  }
  await run(prepare(WARMUP));
  const result = await run(prepare(TOTAL));
  agent.destroy();
  process.stdout.write(JSON.stringify(result));
}

/** Server side: a production-like app (SQLite on disk, logging at warn) behind the HTTP endpoint. */
async function server() {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-discord-'));
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const config = parseConfig(TEST_CONFIG.replace('level: debug', 'level: warn'), 'bench.yaml', {});
  const app = await createApp({ config, dataDir: join(dir, 'data'), keyDir: join(dir, 'keys'), env: {}, log: createLogger({ level: 'warn', destination: quiet }) });
  await app.pipeline.handle({ id: 'grant', platform: 'cli', user: { id: 'local:root-admin', displayName: 'root' }, text: `role grant discord:${USER} viewer` });
  const key = makeSigningKey();
  const adapter = await startDiscordAdapter({
    app,
    env: { DISCORD_PUBLIC_KEY: key.publicHex, DISCORD_INTERACTIONS_PORT: '0', DISCORD_INTERACTIONS_HOST: '127.0.0.1', DISCORD_API_URL: 'http://127.0.0.1:9/api' },
    log: app.log,
  });
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'client'], {
    env: { ...process.env, BENCH_URL: adapter.url!, BENCH_KEY: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await adapter.stop();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`load client exited with ${code}`);
  const { latencies, failures, seconds } = JSON.parse(out) as { latencies: number[]; failures: number; seconds: number };
  const s = summarize(latencies);
  line(`HTTP interactions, ${CONCURRENCY} in flight, ${TOTAL} requests`, `${Math.round(TOTAL / seconds).toLocaleString('en-US')} req/s`);
  line('  latency p50', fmt(s.p50));
  line('  latency p95', fmt(s.p95));
  line('  latency p99', fmt(s.p99), '< 100 ms', s.p99 < 100);
  line('  latency max', fmt(s.max));
  line('  failed responses', String(failures), '0', failures === 0);
  if (failures) process.exitCode = 1;
}

if (process.argv[2] === 'client') await client(process.env.BENCH_URL!, createPrivateKey(process.env.BENCH_KEY!));
else await server();
