import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../helpers/test-app.js';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck, recordingSink } from './health-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('durable outbox', () => {
  it('delivers after a restart what a failing chat API refused, and the open alert still resolves', async () => {
    const svc = await fakeService();
    const dir = mkdtempSync(join(tmpdir(), 'infrabot-outbox-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => svc.close());
    const config = BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)]));
    const clock = manualClock();

    // First process: the chat API is down for everything it tries.
    const broken = recordingSink();
    for (let i = 0; i < 50; i++) broken.serverError();
    const first = await healthApp(config, { dir, clock, sink: broken });
    svc.break();
    await first.round(3);
    expect(broken.attempts()).toBeGreaterThan(0);
    expect(broken.calls).toHaveLength(0);
    await first.app.cleanup();

    // Second process on the same data directory, with a working chat API.
    const second = await healthApp(config, { dir, clock });
    cleanups.push(() => second.app.cleanup());
    await second.round(); // backoff of the failed attempts has passed
    expect(second.sink.posts()).toHaveLength(1);
    expect(second.sink.posts()[0]!.reply.title).toContain('api-http is DOWN');

    svc.heal();
    await second.round(2);
    const msg = second.sink.posts()[0]!.messageId;
    expect(second.sink.updates(msg).at(-1)!.reply.title).toContain('RESOLVED');
    expect(second.sink.threadReplies(msg)).toHaveLength(1);
    expect(second.sink.posts()).toHaveLength(1);
  });

  it('retries a chat API answering 429 and 500, waiting the Retry-After it asked for', async () => {
    const svc = await fakeService();
    cleanups.push(() => svc.close());
    const sink = recordingSink();
    sink.rateLimited(30_000);
    sink.rateLimited(30_000);
    sink.serverError();
    const h = await healthApp(BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)])), { sink });
    cleanups.push(() => h.app.cleanup());
    svc.break();
    await h.round(3);
    expect(sink.attempts()).toBe(1); // 429: come back in 30 s

    const drainAfter = async (ms: number) => {
      h.clock.advance(ms);
      await h.app.health!.deliverer.drain();
    };
    await drainAfter(29_000);
    expect(sink.attempts()).toBe(1); // not before Retry-After
    await drainAfter(1_000);
    expect(sink.attempts()).toBe(2); // second 429
    await drainAfter(30_000);
    expect(sink.attempts()).toBe(3); // 500: exponential backoff (4 s after three attempts)
    expect(sink.calls).toHaveLength(0);
    await drainAfter(3_000);
    expect(sink.attempts()).toBe(3);
    await drainAfter(1_000);
    expect(sink.attempts()).toBe(4);
    expect(sink.posts()).toHaveLength(1);
    expect(sink.posts()[0]!.reply.title).toContain('DOWN');
    expect(h.app.logs.text()).toContain('notification delivery failed; will retry');
  });

  it('never lets a resolution overtake the alert it resolves', async () => {
    const svc = await fakeService();
    cleanups.push(() => svc.close());
    const sink = recordingSink();
    sink.rateLimited(60_000);
    const h = await healthApp(BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)])), { sink });
    cleanups.push(() => h.app.cleanup());
    svc.break();
    await h.round(3);
    svc.heal();
    await h.round(2); // resolved while the first post is still waiting for the rate limit
    expect(sink.calls).toHaveLength(0);
    await h.round(4);
    expect(sink.calls.map((c) => (c.op === 'post' && c.threadId ? 'reply' : c.op))).toEqual(['post', 'update', 'reply']);
    expect(sink.calls[0]!.reply.title).toContain('RESOLVED'); // rendered from current state when finally sent
  });

  it('opens a thread once on platforms that need it and posts every thread reply there', async () => {
    const svc = await fakeService();
    cleanups.push(() => svc.close());
    const sink = recordingSink('discord');
    const opened: string[] = [];
    sink.sink.openThread = async (message, name) => {
      opened.push(`${message.messageId}:${name}`);
      return `thread-of-${message.messageId}`;
    };
    const config = BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)]), 'alerts: { defaultChannels: { discord: "998877" }, reminder: { every: 1m, max: 1 } }');
    const h = await healthApp(config, { sink });
    cleanups.push(() => h.app.cleanup());
    svc.break();
    await h.round(3);
    await h.round(6); // one reminder
    svc.heal();
    await h.round(2);
    expect(opened).toEqual([expect.stringMatching(/^msg-1:⏰ Still firing/)]);
    expect(sink.threadReplies().map((r) => r.threadId)).toEqual(['thread-of-msg-1', 'thread-of-msg-1']);
    expect(sink.posts().map((p) => p.channel)).toEqual(['998877']);
  });
});
