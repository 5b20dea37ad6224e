import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { shortId } from '../../src/util/ids.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** True when Redis answers at 127.0.0.1:6379. Under CI a missing Redis fails the run instead of skipping. */
export async function redisReachable(what: string): Promise<boolean> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  let ok = false;
  try {
    await r.connect();
    ok = (await r.ping()) === 'PONG';
  } catch {
    ok = false;
  }
  r.disconnect();
  if (!ok) {
    if (process.env.CI === 'true') throw new Error(`${what}: Redis is not reachable at 127.0.0.1:6379 and CI=true`);
    console.warn(`\n⚠️  SKIPPED ${what}: Redis is not reachable at 127.0.0.1:6379 — start it with \`redis-server\` to run these tests.\n`);
  }
  return ok;
}

/** A unique key prefix for one test, and a cleanup that deletes every key under it. */
export function redisPrefix(url = REDIS_URL) {
  const prefix = `infrabot-test-${shortId(10)}`;
  return {
    prefix,
    async cleanup() {
      const r = new Redis(url, { maxRetriesPerRequest: 1 });
      r.on('error', () => undefined);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await r.del(...keys);
        } while (cursor !== '0');
      } finally {
        r.disconnect();
      }
    },
  };
}

/** Tests that stop and restart Redis run their own redis-server; without the binary they are skipped (not under CI). */
export function canRunRedisServer(what: string): boolean {
  const ok = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!ok && process.env.CI !== 'true') console.warn(`\n⚠️  SKIPPED ${what}: no redis-server binary on PATH (install redis-server to run it).\n`);
  return ok || process.env.CI === 'true';
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A private redis-server on its own port that a test may stop and start (the shared one at 6379 is never
 * restarted). No persistence: a restart loses everything, like a crashed cache.
 */
export async function privateRedis() {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const ping = async () => {
    const r = new Redis(url, { lazyConnect: true, connectTimeout: 200, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  };
  const start = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await ping()); i++) await new Promise((r) => setTimeout(r, 20));
  };
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url, port, start, stop };
}

/** Resolves when `probe` returns true (polled every 10 ms), or rejects after `ms`. */
export async function eventually(probe: () => boolean | Promise<boolean>, ms = 5_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
