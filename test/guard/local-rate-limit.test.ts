import { createLocalRateLimiter } from '@infrabot/guard';
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
