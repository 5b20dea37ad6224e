/**
 * Guard figures, each against a peer measured in the same run:
 * - local kill-switch check (ns/op) vs an OpenFeature InMemoryProvider boolean evaluation;
 * - three-window rate-limit decisions/s and p99 (rate-limit-3.lua, one round trip) vs rate-limiter-flexible
 *   (three RateLimiterRedis in a RateLimiterUnion) on the same Redis, same concurrency;
 * - propagation of `/infra killswitch on` (through the pipeline and SQLite) to 50 guards over Redis pub/sub.
 * Needs Redis at 127.0.0.1:6379 (REDIS_URL overrides) for the last two.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { controlKeys, createGuard, decideRateLimit } from '@infrabot/guard';
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterUnion } from 'rate-limiter-flexible';
import { createTestApp } from '../test/helpers/test-app.js';
import { redisPrefix } from '../test/helpers/redis.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';
import { line, summarize } from './stats.js';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONCURRENCY = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const keys = redisPrefix(REDIS);
const prefix = keys.prefix;

async function killSwitchCheck() {
  const snapshot = { version: 1, at: new Date().toISOString(), killSwitch: { on: false }, clusters: { api: { enabled: true, rateLimits: { perMinute: 0, perHour: 0, perDay: 0 }, breaker: { state: 'closed' as const, cooldownMs: 1000, trickle: 0.1 }, failMode: 'open' as const } } };
  const guard = await createGuard({ cluster: 'api', service: 'bench', source: { feed: { current: () => snapshot, subscribe: () => () => undefined } } });
  const N = 5_000_000;
  let allowed = 0;
  for (let i = 0; i < 200_000; i++) if (guard.checkLocal().allowed) allowed++;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (guard.checkLocal().allowed) allowed++;
  const ns = Number(process.hrtime.bigint() - t0) / N;
  await guard.close();

  await OpenFeature.setProviderAndWait(new InMemoryProvider({ killswitch: { variants: { on: true, off: false }, defaultVariant: 'off', disabled: false } }));
  const client = OpenFeature.getClient();
  const M = 200_000;
  for (let i = 0; i < 20_000; i++) await client.getBooleanValue('killswitch', false);
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < M; i++) if (!(await client.getBooleanValue('killswitch', false))) allowed++;
  const peer = Number(process.hrtime.bigint() - t1) / M;
  await OpenFeature.close();
  line('guard kill-switch check, local', `${ns.toFixed(0)} ns/op`, '< 1,000 ns', ns < 1_000);
  line('  OpenFeature InMemoryProvider boolean (peer)', `${peer.toFixed(0)} ns/op`);
  line('  peer / guard', `${(peer / ns).toFixed(1)}×`);
  line('  flagd static boolean (published, not measured)', '1,455 ns/op');
  return allowed;
}

/** Closed loop: CONCURRENCY callers, each issuing its next decision when the last one answered. */
async function load(decide: (i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  let n = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (performance.now() < until) {
        const t = performance.now();
        await decide(w * 1_000_000 + n++);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { perSecond: latencies.length / SECONDS, ...summarize(latencies) };
}

async function rateLimits() {
  const ours = new Redis(REDIS);
  const theirs = new Redis(REDIS);
  const rlKeys = controlKeys(prefix);
  const limits = { perMinute: 1_000_000_000, perHour: 1_000_000_000, perDay: 1_000_000_000 };
  const opts = (duration: number, p: string) => ({ storeClient: theirs, keyPrefix: `${prefix}:rlf:${p}`, points: 1_000_000_000, duration });
  const union = new RateLimiterUnion(new RateLimiterRedis(opts(60, 'm')), new RateLimiterRedis(opts(3600, 'h')), new RateLimiterRedis(opts(86400, 'd')));
  const tenants = 100; // spread over 100 tenant keys, as a busy API would
  // Warm both (script loading), then alternate runs so neither gets the quieter machine.
  await load((i) => decideRateLimit(ours, rlKeys, 'api', limits, `t${i % tenants}`));
  await load((i) => union.consume(`t${i % tenants}`));
  const a = await load((i) => decideRateLimit(ours, rlKeys, 'api', limits, `t${i % tenants}`));
  const b = await load((i) => union.consume(`t${i % tenants}`));
  line('rate limit, 3 windows, one Lua script', `${Math.round(a.perSecond).toLocaleString('en-US')} decisions/s`, '≥ 2.5× peer', a.perSecond >= 2.5 * b.perSecond);
  line('  p50 / p99', `${a.p50.toFixed(2)} / ${a.p99.toFixed(2)} ms`);
  line('  rate-limiter-flexible RateLimiterUnion ×3 (peer)', `${Math.round(b.perSecond).toLocaleString('en-US')} decisions/s`);
  line('  peer p50 / p99', `${b.p50.toFixed(2)} / ${b.p99.toFixed(2)} ms`);
  line('  ours / peer', `${(a.perSecond / b.perSecond).toFixed(2)}×`);
  ours.disconnect();
  theirs.disconnect();
}

async function propagation() {
  const app = await createTestApp({
    config: `
clusters:
  api:
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
admins: [local:root-admin]
log: { level: warn }
redis: { url: "${REDIS}", prefix: ${prefix} }
`,
  });
  const GUARDS = 50;
  // The guards run in their own process, as services would: the bot's event loop does not deliver to them.
  const child = fork(join(PACKAGE_ROOT, 'bench', 'guard-fleet.ts'), [REDIS, prefix, String(GUARDS)], { execArgv: ['--import', 'tsx'] });
  let onSeen: ((m: { on: boolean; ats: number[] }) => void) | undefined;
  await new Promise<void>((resolve) => child.on('message', (m: { ready?: boolean; on?: boolean; ats?: number[] }) => (m.ready ? resolve() : onSeen?.(m as { on: boolean; ats: number[] }))));
  const wall = () => performance.timeOrigin + performance.now();
  const samples: number[] = [];
  const commands: number[] = [];
  const afterCommit: number[] = [];
  let committedAt = 0;
  app.control.subscribe(() => (committedAt = wall())); // the commit landed; publication starts now
  const ROUNDS = 40;
  for (let r = 0; r < ROUNDS; r++) {
    const on = r % 2 === 0;
    let t0 = 0;
    const all = new Promise<void>((resolve) => {
      onSeen = (m) => {
        if (m.on !== on) return;
        for (const at of m.ats) {
          samples.push(at - t0);
          afterCommit.push(at - committedAt);
        }
        resolve();
      };
    });
    t0 = wall();
    const reply = await app.run(on ? 'killswitch on --reason "propagation bench"' : 'killswitch off', { confirmed: true });
    if (reply.outcome !== 'ok') throw new Error(`killswitch failed: ${reply.text}`);
    commands.push(wall() - t0);
    await all;
    await new Promise((res) => setTimeout(res, 20));
  }
  child.send({ stop: true });
  await new Promise((res) => child.once('exit', res));
  const s = summarize(samples);
  line(`propagation killswitch → ${GUARDS} guards in another process (${samples.length} obs.)`, `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`, 'p99 < 10 ms', s.p99 < 10);
  const c = summarize(commands);
  const a = summarize(afterCommit);
  line('  the command itself (parse → commit → reply)', `p50 ${c.p50.toFixed(2)} ms, p99 ${c.p99.toFixed(2)} ms`);
  line('  commit landed → guard observed (the channel)', `p50 ${a.p50.toFixed(2)} ms, p99 ${a.p99.toFixed(2)} ms`);
  line('  LaunchDarkly streaming (advertised) / Unleash poll', '~200 ms / 15 s');
  await app.cleanup();
}

await killSwitchCheck();
const probe = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
probe.on('error', () => undefined);
const redisUp = await probe.connect().then(() => true, () => false);
probe.disconnect();
if (!redisUp) {
  console.log(`Redis not reachable at ${REDIS}: rate-limit and propagation figures skipped (start redis-server).`);
} else {
  try {
    await rateLimits();
    await propagation();
  } finally {
    await keys.cleanup();
  }
}
