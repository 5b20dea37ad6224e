import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { guardRoutes } from '../../src/http/guard-routes.js';
import { createTestApp } from '../helpers/test-app.js';
import { REDIS_URL, redisPrefix, redisReachable } from '../helpers/redis.js';
import { requestDigest } from '@infrabot/guard';

const up = await redisReachable('billable HTTP routes against Redis (test/http/billable-routes.test.ts)');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function setup(withRedis = true) {
  const keys = redisPrefix();
  const app = await createTestApp({ config: `
clusters:
  api:
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
    prices: { mint-dream: 1.25 }
admins: [local:root-admin]
` });
  const server = Fastify({ forceCloseConnections: true });
  await server.register(guardRoutes, { feed: app.control, ...(withRedis ? { redis: { url: REDIS_URL, prefix: keys.prefix } } : {}) });
  await server.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => keys.cleanup(), () => app.cleanup(), () => server.close());
  const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, retryAfter: res.headers.get('retry-after') };
  };
  return { app, call };
}

describe.runIf(up)('billable HTTP API', () => {
  it('reserve → confirm → replay, with stats and the action record, for services in any language', async () => {
    const { app, call } = await setup();
    await app.run('budget set api --daily 2');
    const request = { prompt: 'a cat' };
    const r = await call('POST', '/api/billable/reserve', { cluster: 'api', idempotencyKey: 'order-7', action: 'mint-dream', request });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'reserved', actionId: 'api:order-7', amount: 1.25, currency: 'USD', digest: requestDigest(request) });
    const again = await call('POST', '/api/billable/reserve', { cluster: 'api', idempotencyKey: 'order-7', action: 'mint-dream', request });
    expect(again).toMatchObject({ status: 409, body: { reason: 'in-progress' } });
    const over = await call('POST', '/api/billable/reserve', { cluster: 'api', idempotencyKey: 'order-8', action: 'mint-dream', request });
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ reason: 'budget-exhausted' });
    expect(Number(over.retryAfter)).toBeGreaterThan(0);
    expect(await call('POST', '/api/billable/confirm', { actionId: 'api:order-7', token: r.body.token, response: { image: 'cat.png' } })).toMatchObject({ status: 200, body: { outcome: 'confirmed' } });
    const replay = await call('POST', '/api/billable/reserve', { cluster: 'api', idempotencyKey: 'order-7', action: 'mint-dream', request });
    expect(replay).toMatchObject({ status: 200, body: { status: 'replayed', response: { image: 'cat.png' } } });
    const conflict = await call('POST', '/api/billable/reserve', { cluster: 'api', idempotencyKey: 'order-7', action: 'mint-dream', request: { prompt: 'a dog' } });
    expect(conflict).toMatchObject({ status: 422, body: { reason: 'idempotency-conflict' } });
    expect(await call('GET', '/api/billable/api:order-7')).toMatchObject({ status: 200, body: { state: 'confirmed', amount: 1.25, response: { image: 'cat.png' } } });
    expect(await call('GET', '/api/billable/stats?cluster=api')).toMatchObject({ status: 200, body: { pending: 0, confirmed: 1, charged: 1.25, failed: 0, refusedForBudget: 1, conflicts: 1 } });
  });

  it('cancel releases the amount; a wrong token, an unknown action and bad input are refused clearly', async () => {
    const { call } = await setup();
    const r = await call('POST', '/api/billable/reserve', { cluster: 'api', idempotencyKey: 'x', action: 'render', amount: 3 });
    expect(r.status).toBe(201);
    expect(await call('POST', '/api/billable/cancel', { actionId: 'api:x', token: '00000000-0000-4000-8000-000000000000' })).toMatchObject({ status: 409, body: { outcome: 'superseded' } });
    expect(await call('POST', '/api/billable/cancel', { actionId: 'api:x', token: r.body.token })).toMatchObject({ status: 200, body: { outcome: 'cancelled' } });
    expect(await call('POST', '/api/billable/confirm', { actionId: 'api:x', token: r.body.token })).toMatchObject({ status: 200, body: { outcome: 'cancelled' } });
    expect(await call('GET', '/api/billable/api:nope')).toMatchObject({ status: 404 });
    expect(await call('POST', '/api/billable/reserve', { cluster: 'api', idempotencyKey: 'y', action: 'unpriced-thing' })).toMatchObject({ status: 422, body: { reason: 'unpriced' } });
    expect(await call('POST', '/api/billable/reserve', { cluster: 'nope', idempotencyKey: 'y', action: 'render', amount: 1 })).toMatchObject({ status: 404 });
    const bad = await call('POST', '/api/billable/reserve', { cluster: 'api', idempotencyKey: 'has space', action: 'render', amount: 1 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('printable ASCII');
  });
});

describe('billable HTTP API without Redis', () => {
  it('answers 503 naming the missing setting', async () => {
    const { call } = await setup(false);
    expect(await call('POST', '/api/billable/reserve', { cluster: 'api', idempotencyKey: 'x', action: 'render', amount: 1 })).toMatchObject({ status: 503, body: { error: { code: 'infra_no_redis' } } });
  });
});
