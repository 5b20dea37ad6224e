import { afterEach, describe, expect, it } from 'vitest';
import { attachmentBytes } from '../../src/engine/message.js';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('an alert thread shows the check latency', () => {
  it('posts a PNG chart of the last hour in the thread of a DOWN alert, and none on the way back up', async () => {
    const service = await fakeService();
    const h = await healthApp(BASE_CONFIG(cluster('api', [httpCheck('api-1', service.url)])));
    cleanups.push(async () => {
      await h.app.cleanup();
      await service.close();
    });
    await h.round(4); // healthy probes: there is latency to draw
    service.break();
    await h.round(3);
    await h.app.health!.deliverer.drain();
    const [head, ...replies] = h.sink.calls.filter((c) => c.op === 'post');
    expect(head!.reply.title).toContain('api-1 is DOWN');
    const chart = replies.find((r) => r.reply.attachments?.length);
    expect(chart, JSON.stringify(replies.map((r) => r.reply.title))).toBeDefined();
    expect(chart!.threadId).toBe(head!.messageId);
    expect(chart!.reply.title).toBe('📉 api-1 latency, last hour');
    const png = attachmentBytes(chart!.reply.attachments![0]!);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.length).toBeGreaterThan(2000);

    service.heal();
    await h.round(3);
    await h.app.health!.deliverer.drain();
    expect(h.sink.calls.filter((c) => c.op === 'post' && c.reply.attachments?.length)).toHaveLength(1);
  });
});
