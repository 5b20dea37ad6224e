import { afterEach, describe, expect, it } from 'vitest';
import type { ChatSink } from '../../src/chat/chat-sink.js';
import { recordingSink } from '../health/health-helpers.js';
import { outboxHarness } from './outbox-harness.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(sink: ChatSink = recordingSink().sink) {
  const h = await outboxHarness(sink, 'ops');
  cleanups.push(() => h.cleanup());
  return h;
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('outbox leases', () => {
  it('a job taken over after its lease ran out cannot be completed or retried with the stale token', async () => {
    const h = await setup();
    await h.fire();
    const t0 = h.clock.now().getTime();
    const [mine] = await h.health.claimOutbox(iso(t0), ['console'], 10, iso(t0 + 1000));
    // Nobody else can lease it while the lease holds…
    expect(await h.health.claimOutbox(iso(t0 + 500), ['console'], 10, iso(t0 + 1500))).toEqual([]);
    // …but after it ran out another deliverer takes it, with a token of its own.
    const [theirs] = await h.health.claimOutbox(iso(t0 + 2000), ['console'], 10, iso(t0 + 62_000));
    expect(theirs!.seq).toBe(mine!.seq);
    expect(theirs!.leaseToken).not.toBe(mine!.leaseToken);
    expect(theirs!.claims).toBe(2);

    const delivery = { notificationId: 'n1', platform: 'console', channel: 'ops', messageId: 'stale-message' };
    expect(await h.health.completeOutbox({ seq: mine!.seq, leaseToken: mine!.leaseToken, delivery })).toBe(false);
    expect(await h.health.retryOutbox({ seq: mine!.seq, leaseToken: mine!.leaseToken, nextAttemptAt: iso(t0), error: 'x', kind: 'error', dead: true })).toBe(false);
    expect(h.rows()[0]).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await h.health.deliveries('n1')).toEqual([]);

    expect(await h.health.completeOutbox({ seq: theirs!.seq, leaseToken: theirs!.leaseToken })).toBe(true);
    expect(h.rows()[0]!.status).toBe('done');
    // Done is final: the old holder cannot reopen it either.
    expect(await h.health.retryOutbox({ seq: theirs!.seq, leaseToken: theirs!.leaseToken, nextAttemptAt: iso(t0), error: 'x', kind: 'error', dead: false })).toBe(false);
  });

  it('a deliverer whose lease was taken over mid-call discards its result and says so', async () => {
    let h!: Awaited<ReturnType<typeof setup>>;
    const inner = recordingSink();
    const slow: ChatSink = {
      ...inner.sink,
      async post(channel, reply, opts) {
        // While this call hangs the lease runs out and another process takes the job over.
        const far = h.clock.now().getTime() + 120_000;
        await h.health.claimOutbox(iso(far), ['console'], 10, iso(far + 60_000));
        return inner.sink.post(channel, reply, opts);
      },
    };
    h = await setup(slow);
    await h.fire();
    expect(await h.deliverer.drain()).toBe(0);
    expect(h.app.logs.text()).toContain('outbox lease lost');
    // The job stays with its new holder, and the message this attempt made is not recorded as the delivery.
    expect(h.rows()[0]).toMatchObject({ status: 'pending' });
    expect(await h.health.deliveries('n1')).toEqual([]);
  });
});
