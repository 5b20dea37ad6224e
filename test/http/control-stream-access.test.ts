import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/http/create-http-server.js';
import { createTestApp, manualClock, type TestApp } from '../helpers/test-app.js';
import { takeSseEvents, type SseEvent } from '../helpers/take-sse-events.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const PROCESS_KEY = 'process-key-for-this-test-0123456789';

/** The real API on a port, over a real SQLite app. */
async function serve(opts: { clock?: ReturnType<typeof manualClock> } = {}) {
  const app: TestApp = await createTestApp(opts.clock ? { clock: opts.clock } : {});
  const server: FastifyInstance = await createHttpServer({ app, processKey: PROCESS_KEY });
  await server.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.cleanup(), () => server.close());
  const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  const key = async (args: string) => {
    const reply = await app.run(`apikey create ${args}`);
    expect(reply.outcome, reply.text).toBe('ok');
    return (reply.data as { token: string }).token;
  };
  return { app, base, key };
}

/** Follows a stream: its events as they arrive, and whether the server ended it. */
async function follow(base: string, token: string) {
  const res = await fetch(`${base}/api/control/stream`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const events: SseEvent[] = [];
  const state = { ended: false };
  const reader = res.body!.getReader();
  const done = (async () => {
    let buffer = '';
    for (;;) {
      const { value, done: end } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (end) break;
      const taken = takeSseEvents(buffer + new TextDecoder().decode(value));
      buffer = taken.rest;
      events.push(...taken.events);
    }
    state.ended = true;
  })();
  cleanups.push(() => reader.cancel());
  return { events, state, done };
}

async function until(what: () => boolean, label: string) {
  const end = Date.now() + 3_000;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('GET /api/control/stream and the key it was opened with', () => {
  it('ends the stream of a revoked key before it gets another change', async () => {
    const s = await serve();
    const stream = await follow(s.base, await s.key('svc --role viewer'));
    const other = await follow(s.base, await s.key('other --role viewer'));
    await until(() => stream.events.length === 1 && other.events.length === 1, 'the snapshots');
    expect((await s.app.run('apikey revoke svc')).outcome).toBe('ok');
    await s.app.run('killswitch on --reason "data corruption"', { confirmed: true });
    await stream.done;
    expect(stream.events.map((e) => e.event)).toEqual(['snapshot']);
    // A key still valid keeps its stream.
    await until(() => other.events.length === 2, 'the change on the valid key');
    expect(other.state.ended).toBe(false);
    expect(other.events[1]).toMatchObject({ event: 'change', data: { killSwitch: { on: true } } });
  });

  it("ends the stream of a key that expired while it was open; the process's own key never expires", async () => {
    const clock = manualClock('2026-12-02T00:00:00.000Z');
    const s = await serve({ clock });
    const stream = await follow(s.base, await s.key('svc --role viewer --expires 1d'));
    const own = await follow(s.base, PROCESS_KEY);
    await until(() => stream.events.length === 1 && own.events.length === 1, 'the snapshots');
    clock.set('2026-12-03T00:00:01.000Z');
    await s.app.run('cluster disable api --reason "bad deploy"', { confirmed: true });
    await stream.done;
    expect(stream.events.map((e) => e.event)).toEqual(['snapshot']);
    await until(() => own.events.length === 2, "the change on the process's key");
    expect(own.state.ended).toBe(false);
  });

  it('shows a key scoped to clusters only those clusters (and the global kill-switch), in the snapshot and in changes', async () => {
    const s = await serve();
    const scoped = await follow(s.base, await s.key('web-svc --role viewer --cluster web'));
    const all = await follow(s.base, await s.key('all --role viewer'));
    await until(() => scoped.events.length === 1 && all.events.length === 1, 'the snapshots');
    expect(Object.keys(scoped.events[0]!.data.clusters)).toEqual(['web']);
    expect(Object.keys(all.events[0]!.data.clusters).sort()).toEqual(['api', 'db', 'web']);
    await s.app.run('cluster disable api --reason "bad deploy"', { confirmed: true });
    await s.app.run('killswitch on --reason "data corruption"', { confirmed: true });
    await until(() => scoped.events.length === 3 && all.events.length === 3, 'the changes');
    for (const e of scoped.events) expect(Object.keys(e.data.clusters)).toEqual(['web']);
    expect(scoped.events[2]).toMatchObject({ event: 'change', data: { killSwitch: { on: true }, clusters: { web: { enabled: true } } } });
    expect(all.events[1]!.data.clusters.api).toMatchObject({ enabled: false });
  });
});
