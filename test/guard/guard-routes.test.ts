import type { AddressInfo } from 'node:net';
import { createGuard, InfrabotFlagProvider } from '@infrabot/guard';
import { OpenFeature, OpenFeatureEventEmitter, ProviderEvents } from '@openfeature/server-sdk';
import swagger from '@fastify/swagger';
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { afterEach, describe, expect, it } from 'vitest';
import { guardRoutes } from '../../src/http/guard-routes.js';
import { createTestApp } from '../helpers/test-app.js';
import { eventually } from '../helpers/redis.js';
import { takeSseEvents, type SseEvent } from '../helpers/take-sse-events.js';
import { startSimulatedFleet } from '../../src/sim/simulated-fleet.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** The embedded default: no Redis; the routes serve the app's control channel. */
async function setup() {
  const app = await createTestApp();
  const server = Fastify({ forceCloseConnections: true });
  await server.register(guardRoutes, { feed: app.control, heartbeatMs: 200 });
  await server.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.cleanup(), () => server.close());
  const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  return { app, server, base };
}

/** Reads server-sent events until `count` events (comments skipped) arrived. */
async function readEvents(res: Response, count: number) {
  const events: SseEvent[] = [];
  const reader = res.body!.getReader();
  let buffer = '';
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    const taken = takeSseEvents(buffer + new TextDecoder().decode(value));
    buffer = taken.rest;
    events.push(...taken.events);
  }
  await reader.cancel();
  return events;
}

describe('guard routes (no Redis: the embedded default)', () => {
  it('streams the snapshot, then changes; a reconnect with Last-Event-ID gets only what changed since', async () => {
    const s = await setup();
    const ac = new AbortController();
    const res = await fetch(`${s.base}/api/control/stream`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const pending = readEvents(res, 2);
    await new Promise((r) => setTimeout(r, 50));
    await s.app.run('killswitch on --reason "stop it all"', { confirmed: true });
    const [first, second] = await pending;
    expect(first).toMatchObject({ event: 'snapshot', id: '0', data: { version: 0, killSwitch: { on: false } } });
    expect(second).toMatchObject({ event: 'change', id: '1', data: { version: 1, killSwitch: { on: true } } });
    expect(Object.keys(first!.data.clusters).sort()).toEqual(['api', 'db', 'web']);
    ac.abort();

    await s.app.run('cluster disable web --reason "maintenance"', { confirmed: true });
    // Reconnect from version 1: the one change since then, not the whole history.
    const again = await readEvents(await fetch(`${s.base}/api/control/stream`, { headers: { 'last-event-id': '1' } }), 1);
    expect(again[0]).toMatchObject({ event: 'change', id: '2', data: { clusters: { web: { enabled: false } } } });
    // Already current: nothing but keep-alive comments until the next change.
    const current = await fetch(`${s.base}/api/control/stream`, { headers: { 'last-event-id': '2' } });
    const later = readEvents(current, 1);
    await new Promise((r) => setTimeout(r, 300));
    await s.app.run('cluster enable web', { confirmed: true });
    expect((await later)[0]).toMatchObject({ event: 'change', id: '3' });

    const bad = await fetch(`${s.base}/api/control/stream`, { headers: { 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(400);
  });

  it('its zod schemas render into a valid OpenAPI 3.1 document', async () => {
    const app = await createTestApp();
    cleanups.push(() => app.cleanup());
    const server = Fastify();
    await server.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'infrabot', version: '0' } }, transform: jsonSchemaTransform });
    await server.register(guardRoutes, { feed: app.control });
    await server.ready();
    cleanups.push(() => server.close());
    const doc = server.swagger() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/billable/cancel', '/api/billable/confirm', '/api/billable/reserve', '/api/billable/stats', '/api/billable/{actionId}',
      '/api/control/check', '/api/control/report', '/api/control/stream',
    ]);
    const result = await new Validator().validate(doc as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('asks the server whether a caller may use the routes, per cluster (API-key scopes)', async () => {
    const app = await createTestApp();
    cleanups.push(() => app.cleanup());
    const server = Fastify({ forceCloseConnections: true });
    await server.register(guardRoutes, { feed: app.control, authorize: (req, cluster) => req.headers['x-key'] === 'ok' && cluster !== 'db' });
    await server.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => server.close());
    const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
    const check = (cluster: string, key?: string) =>
      fetch(`${base}/api/control/check`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { 'x-key': key } : {}) }, body: JSON.stringify({ cluster }) });
    expect((await check('api', 'ok')).status).toBe(200);
    const outOfScope = await check('db', 'ok');
    expect(outOfScope.status).toBe(403);
    expect(await outOfScope.json()).toMatchObject({ error: { code: 'infra_forbidden', message: 'This key may not check cluster db.' } });
    expect((await check('api')).status).toBe(403);
    expect((await fetch(`${base}/api/control/stream`)).status).toBe(403);
  });

  it('re-checks the caller at every keep-alive and ends the stream once it no longer holds, with no change in between', async () => {
    const app = await createTestApp();
    cleanups.push(() => app.cleanup());
    const server = Fastify({ forceCloseConnections: true });
    let valid = true;
    let checks = 0;
    await server.register(guardRoutes, { feed: app.control, heartbeatMs: 50, streamAccess: () => ({ stillValid: async () => (checks++, valid) }) });
    await server.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => server.close());
    const res = await fetch(`http://127.0.0.1:${(server.server.address() as AddressInfo).port}/api/control/stream`);
    const reader = res.body!.getReader();
    let text = '';
    const ended = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    })();
    await eventually(() => checks >= 2, 3_000, 'keep-alive re-checks');
    expect(text).toContain(': ping');
    valid = false;
    expect(await ended).toMatch(/: key revoked or expired\n\n$/);
  });

  it('POST /api/control/check decides for services in other languages', async () => {
    const s = await setup();
    const check = (body: unknown) => fetch(`${s.base}/api/control/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let res = await check({ cluster: 'api', service: 'billing-go' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ allowed: true, version: 0, remaining: [599, 19_999, 299_999] });
    await s.app.run('breaker trip api --reason "db timeouts"', { confirmed: true });
    res = await check({ cluster: 'api', service: 'billing-go', key: 'tenant-1' });
    expect(await res.json()).toMatchObject({ allowed: false, reason: 'breaker-open', status: 503, version: 1 });
    res = await check({ cluster: 'nope' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'infra_not_found', message: expect.stringContaining('Known clusters: api, db, web') } });
    res = await check({ cluster: 'api', cost: 0 });
    expect(res.status).toBe(400);
  });

  it('a guard fed from the SSE stream obeys killswitch on/off; OpenFeature reads the switches as flags', async () => {
    const s = await setup();
    const guard = await createGuard({ cluster: 'api', service: 'demo', source: { sse: { url: `${s.base}/api/control/stream` } } });
    cleanups.push(() => guard.close());
    expect(guard.health()).toMatchObject({ status: 'ready', source: 'sse', version: 0 });
    await OpenFeature.setProviderAndWait(new InfrabotFlagProvider(guard, { events: new OpenFeatureEventEmitter() }));
    const flags = OpenFeature.getClient();
    const seen: string[] = [];
    for (const e of [ProviderEvents.ConfigurationChanged, ProviderEvents.Stale, ProviderEvents.Ready]) flags.addHandler(e, () => seen.push(e));
    expect(await flags.getBooleanValue('cluster.api.enabled', false)).toBe(true);

    await s.app.run('killswitch on --reason "incident 42"', { confirmed: true });
    await eventually(() => guard.snapshot()?.version === 1, 3_000, 'the kill-switch over SSE');
    expect(await guard.check()).toMatchObject({ allowed: false, reason: 'killswitch' });
    expect(await flags.getBooleanValue('killswitch', false)).toBe(true);
    expect(await flags.getBooleanValue('cluster.api.enabled', true)).toBe(false);
    const missing = await flags.getBooleanDetails('cluster.nope.enabled', true);
    expect(missing).toMatchObject({ value: true, errorCode: 'FLAG_NOT_FOUND' });

    // The bot goes away: the guard keeps its snapshot and says it is stale.
    await s.server.close();
    await eventually(() => guard.health().status === 'stale', 3_000, 'stale');
    expect((await flags.getBooleanDetails('killswitch', false)).reason).toBe('STALE');
    // The SDK runs a READY handler at once when the provider already is ready.
    expect(seen).toEqual([ProviderEvents.Ready, ProviderEvents.ConfigurationChanged, ProviderEvents.Stale]);
    expect(guard.checkLocal()).toMatchObject({ allowed: false, reason: 'killswitch' });

    // Changed while the stream was down; the bot comes back on the same port and the guard catches up.
    await s.app.run('killswitch off', { confirmed: true });
    const again = Fastify({ forceCloseConnections: true });
    await again.register(guardRoutes, { feed: s.app.control });
    await again.listen({ port: Number(new URL(s.base).port), host: '127.0.0.1' });
    cleanups.push(() => again.close());
    await eventually(() => guard.health().status === 'ready' && guard.snapshot()?.version === 2, 8_000, 'the guard to reconnect');
    expect(await flags.getBooleanValue('cluster.api.enabled', false)).toBe(true);
    expect(seen.slice(3)).toEqual(expect.arrayContaining([ProviderEvents.Ready, ProviderEvents.ConfigurationChanged]));
    await OpenFeature.close();
  });

  it('the simulated fleet embeds the guard: killswitch on makes the demo services answer 503, off brings them back', async () => {
    const s = await setup();
    const fleet = await startSimulatedFleet(
      { enabled: true, controlPort: 0, services: [{ name: 'api-http', kind: 'http', port: 0, cluster: 'api' }] },
      s.app.log,
      (service, cluster) => createGuard({ cluster, service, source: { sse: { url: `${s.base}/api/control/stream` } } }),
    );
    cleanups.push(() => fleet.stop());
    const url = `http://127.0.0.1:${fleet.services()[0]!.port}/health`;
    expect((await fetch(url)).status).toBe(200);
    await s.app.run('killswitch on --reason "demo"', { confirmed: true });
    await eventually(async () => (await fetch(url)).status === 503, 3_000, 'the demo service to refuse');
    const refused = await fetch(url);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('x-trace-id')).toBeTruthy();
    await s.app.run('killswitch off', { confirmed: true });
    await eventually(async () => (await fetch(url)).status === 200, 3_000, 'the demo service to answer again');
  });
});
