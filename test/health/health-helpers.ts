import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { ChatRateLimitedError, type ChatSink, type PostedMessage } from '../../src/chat/chat-sink.js';
import type { Reply } from '../../src/framework/reply.js';
import { createTestApp, manualClock, type TestApp } from '../helpers/test-app.js';

/** A loopback HTTP service whose health the test flips. */
export async function fakeService() {
  const state = { status: 200, body: '{"status":"ok"}', delayMs: 0, hits: 0 };
  const server: Server = createServer((_req, res) => {
    state.hits++;
    const send = () => res.writeHead(state.status, { 'content-type': 'application/json' }).end(state.body);
    if (state.delayMs) setTimeout(send, state.delayMs);
    else send();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/health`,
    state,
    break: () => Object.assign(state, { status: 503, body: '{"status":"down"}' }),
    heal: () => Object.assign(state, { status: 200, body: '{"status":"ok"}', delayMs: 0 }),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export async function fakeTcpService() {
  const server: TcpServer = createTcpServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export interface SinkCall {
  op: 'post' | 'update';
  channel: string;
  messageId: string;
  threadId?: string;
  reply: Reply;
}

/** A chat sink that records what it was handed; `failures` are thrown, one per call, before it succeeds. */
export function recordingSink(platform = 'console') {
  const calls: SinkCall[] = [];
  const failures: Error[] = [];
  let attempts = 0;
  let n = 0;
  const sink: ChatSink = {
    platform,
    async post(channel, reply, opts) {
      attempts++;
      const f = failures.shift();
      if (f) throw f;
      const messageId = `msg-${++n}`;
      calls.push({ op: 'post', channel, messageId, ...(opts?.threadId ? { threadId: opts.threadId } : {}), reply });
      return { platform, channel, messageId, ...(opts?.threadId ? { threadId: opts.threadId } : {}) };
    },
    async update(message: PostedMessage, reply) {
      attempts++;
      const f = failures.shift();
      if (f) throw f;
      calls.push({ op: 'update', channel: message.channel, messageId: message.messageId, reply });
    },
  };
  return {
    sink,
    calls,
    failures,
    attempts: () => attempts,
    /** Top-level messages (not thread replies). */
    posts: () => calls.filter((c) => c.op === 'post' && !c.threadId),
    threadReplies: (messageId?: string) => calls.filter((c) => c.op === 'post' && c.threadId && (!messageId || c.threadId === messageId)),
    updates: (messageId?: string) => calls.filter((c) => c.op === 'update' && (!messageId || c.messageId === messageId)),
    rateLimited: (ms: number) => failures.push(new ChatRateLimitedError(ms)),
    serverError: () => failures.push(new Error('chat API answered 500')),
  };
}

export const BASE_CONFIG = (clusters: string, extra = '') => `
clusters:
${clusters}
admins: [local:root-admin]
log: { level: debug }
${extra}
`;

/** One http check on a cluster, with the thresholds the tests rely on. */
export const httpCheck = (name: string, url: string, more = '') =>
  `      - { name: ${name}, type: http, url: "${url}", interval: 10s, timeout: 2s, failureThreshold: 3, successThreshold: 2, degraded: { enabled: false }${more ? ', ' + more : ''} }`;

export const cluster = (name: string, checks: string[], more = '') => `  ${name}:
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
${more}    checks:${checks.length ? '\n' + checks.join('\n') : ' []'}`;

export type Clock = ReturnType<typeof manualClock>;

export interface HealthTestApp {
  app: TestApp;
  clock: Clock;
  sink: ReturnType<typeof recordingSink>;
  /** Moves the clock one probe interval (10 s) and runs a scheduler round plus delivery. */
  round(times?: number, ms?: number): Promise<void>;
}

export async function healthApp(config: string, opts: { dir?: string; clock?: Clock; sink?: ReturnType<typeof recordingSink> } = {}): Promise<HealthTestApp> {
  const clock = opts.clock ?? manualClock();
  const app = await createTestApp({ clock, config, ...(opts.dir ? { dir: opts.dir } : {}) });
  const sink = opts.sink ?? recordingSink();
  expect(app.health).toBeDefined();
  app.health!.deliverer.addSink(sink.sink);
  const round = async (times = 1, ms = 10_000) => {
    for (let i = 0; i < times; i++) {
      clock.advance(ms);
      await app.health!.tick();
    }
  };
  return { app, clock, sink, round };
}

/**
 * Cluster `api` with one http check `api-http` (plus `checkExtra` options) probing a fake service; the app and
 * the service are closed by the test's `cleanups`.
 */
export async function oneCheckApp(cleanups: (() => Promise<void>)[], checkExtra = '') {
  const svc = await fakeService();
  const h = await healthApp(BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url, checkExtra)])));
  cleanups.push(async () => {
    await h.app.cleanup();
    await svc.close();
  });
  return { ...h, svc };
}
