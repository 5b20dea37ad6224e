import { createGuard, createLocalRateLimiter } from '@infrabot/guard';
import { describe, expect, it } from 'vitest';

describe('in-process rate limits (guards without Redis)', () => {
  it('decides the three windows all or nothing, per tenant, and opens again when the window ends', () => {
    let now = Date.parse('2026-12-01T10:00:30.000Z');
    const limit = createLocalRateLimiter(() => now);
    const limits = { perMinute: 2, perHour: 3, perDay: 100 };
    expect(limit('api', limits, 'a')).toMatchObject({ allowed: true, remaining: [1, 2, 99] });
    expect(limit('api', limits, 'a')).toMatchObject({ allowed: true, remaining: [0, 1, 98] });
    // The minute is used up: refused, and the hour and day are not charged.
    expect(limit('api', limits, 'a')).toMatchObject({ allowed: false, retryAfterMs: 30_000, remaining: [0, 1, 98] });
    expect(limit('api', limits, 'b')).toMatchObject({ allowed: true });
    now += 30_000; // next minute
    expect(limit('api', limits, 'a')).toMatchObject({ allowed: true, remaining: [1, 0, 97] });
    now += 60_000;
    expect(limit('api', limits, 'a')).toMatchObject({ allowed: false, retryAfterMs: 58 * 60_000 }); // the hour refuses until 11:00
  });
});

describe('a guard that never got a snapshot', () => {
  const empty = { current: () => undefined, subscribe: () => () => undefined };
  it('allows (degraded) by default and refuses with 503 when it fails closed', async () => {
    const open = await createGuard({ cluster: 'api', service: 's', source: { feed: empty }, readyTimeoutMs: 10 });
    const closed = await createGuard({ cluster: 'api', service: 's', source: { feed: empty }, readyTimeoutMs: 10, failMode: 'closed' });
    expect(open.health().status).toBe('starting');
    expect(await open.check()).toEqual({ allowed: true, degraded: 'stale' });
    expect(await closed.check()).toMatchObject({ allowed: false, reason: 'unavailable', status: 503 });
    await Promise.all([open.close(), closed.close()]);
  });
});
