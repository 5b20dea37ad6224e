import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { controlKeys, createGuard, expressGuard, fastifyGuard, nodeGuard, readTraffic, type Guard } from '@infrabot/guard';
import express from 'express';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { eventually, REDIS_URL, redisPrefix, redisReachable } from '../helpers/redis.js';

const up = await redisReachable('guard middleware tests (test/guard/guard-middleware.test.ts)');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function setup() {
  const keys = redisPrefix();
  const app = await createTestApp({
    config: `
clusters:
  wolf-pack:
    rateLimits: { perMinute: 3, perHour: 1000, perDay: 10000 }
admins: [local:root-admin]
redis: { url: "${REDIS_URL}", prefix: ${keys.prefix} }
`,
  });
  const guard = await createGuard({ redis: REDIS_URL, prefix: keys.prefix, cluster: 'wolf-pack', service: 'pack-api', reportIntervalMs: 50 });
  cleanups.push(() => keys.cleanup(), () => app.cleanup(), () => guard.close());
  return { app, guard, keys };
}

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

async function expressApp(guard: Guard) {
  const a = express();
  const router = express.Router();
  router.get('/howl', (_req, res) => { res.json({ ok: true }); });
  router.get('/boom', (_req, res) => { res.status(500).json({ ok: false }); });
  a.use('/api/wolf-pack', expressGuard(guard, { key: (req) => req.headers['x-tenant'] as string | undefined }), router);
  return listen(createServer(a));
}

async function fastifyApp(guard: Guard) {
  const f = Fastify();
  await f.register(async (scope) => {
    scope.addHook('onRequest', fastifyGuard(guard, { key: (req) => req.headers['x-tenant'] as string | undefined }));
    scope.get('/howl', async () => ({ ok: true }));
    scope.get('/boom', async (_req, reply) => reply.code(500).send({ ok: false }));
  }, { prefix: '/api/wolf-pack' });
  await f.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => f.close());
  return `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
}

async function nodeApp(guard: Guard) {
  const guarded = nodeGuard(guard, { key: (req) => req.headers['x-tenant'] as string | undefined });
  return listen(createServer(async (req, res) => {
    if (!(await guarded(req, res))) return;
    if (req.url?.endsWith('/boom')) res.writeHead(500).end('{"ok":false}');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  }));
}

const APPS = { express: expressApp, fastify: fastifyApp, 'node:http': nodeApp } as const;

describe.skipIf(!up)('guard middleware in real apps', () => {
  for (const [name, start] of Object.entries(APPS)) {
    it(`${name}: 503 with Retry-After and X-Trace-Id on a switch, 429 per tenant on limits, reports errors`, async () => {
      const s = await setup();
      const base = await start(s.guard);
      const get = (path = '/api/wolf-pack/howl', headers: Record<string, string> = {}) => fetch(base + path, { headers });

      let res = await get();
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });

      const seq = async () => (await s.app.engine.state()).seq;
      await s.app.run('cluster disable wolf-pack --reason "pack is resting"', { confirmed: true });
      await eventually(async () => s.guard.snapshot()!.version === (await seq()), 3_000, 'the change');
      res = await get('/api/wolf-pack/howl', { 'x-trace-id': 'trace-abc-1' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('x-trace-id')).toBe('trace-abc-1');
      expect(await res.json()).toEqual({ error: { code: 'cluster-disabled', message: expect.stringContaining('disabled'), traceId: 'trace-abc-1', retryAfterSeconds: 1 } });
      expect((await get('/api/wolf-pack/howl', { 'x-trace-id': 'bad id with spaces' })).headers.get('x-trace-id')).toMatch(/^[0-9a-f]{16}$/);

      await s.app.run('cluster enable wolf-pack', { confirmed: true });
      await eventually(async () => s.guard.snapshot()!.version === (await seq()), 3_000, 'the change');
      for (let i = 0; i < 3; i++) expect((await get('/api/wolf-pack/howl', { 'x-tenant': 'acme' })).status).toBe(200);
      res = await get('/api/wolf-pack/howl', { 'x-tenant': 'acme' });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.headers.get('x-trace-id')).toBeTruthy();
      expect((await get('/api/wolf-pack/boom', { 'x-tenant': 'globex' })).status).toBe(500);

      await new Promise((r) => setTimeout(r, 1_100)); // whole seconds only
      const r = new Redis(REDIS_URL);
      cleanups.push(async () => r.disconnect());
      const t = (await readTraffic(r, controlKeys(s.keys.prefix), ['wolf-pack'], 5))['wolf-pack']!;
      expect(t.services).toEqual(['pack-api']);
      expect(t.errors).toBe(1);
      expect(t.deniedPerSecond['cluster-disabled']).toBeGreaterThan(0);
      expect(t.deniedPerSecond['rate-limited']).toBeGreaterThan(0);
    });
  }
});

export type { TestApp };
