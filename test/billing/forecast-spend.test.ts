import { describe, expect, it } from 'vitest';
import { computeCosts, costDataSince } from '../../src/engine/billing/compute-costs.js';
import { forecastSpend } from '../../src/engine/billing/forecast-spend.js';
import { throttleFactor } from '../../src/billing/billing-service.js';
import { seededSpendHistory } from '../../src/billing/seed-costs.js';

describe('spend forecast (Holt linear)', () => {
  it('follows a clean linear trend almost exactly', () => {
    const history = Array.from({ length: 30 }, (_, i) => 100 + 5 * i);
    const f = forecastSpend(history, 3);
    expect(f.days.map((d) => Math.round(d))).toEqual([250, 255, 260]);
    expect(f.mape!).toBeLessThan(0.01);
  });

  it('states its error on the seeded history (60 days: trend, weekly cycle, noise)', () => {
    const history = seededSpendHistory(60, 42);
    const f = forecastSpend(history.slice(0, 53), 7);
    const actual = history.slice(53).reduce((s, d) => s + d, 0);
    // The one-step error it reports, and how far its 7-day total was from what happened.
    expect(f.mape!).toBeGreaterThan(0.02);
    expect(f.mape!).toBeLessThan(0.25);
    expect(Math.abs(f.total - actual) / actual).toBeLessThan(0.2);
  });

  it('needs a few days before it states an error, and never forecasts negative spend', () => {
    expect(forecastSpend([5, 3], 2).mape).toBeUndefined();
    const falling = forecastSpend([50, 40, 30, 20, 10, 0, 0], 10);
    expect(Math.min(...falling.days)).toBe(0);
    expect(forecastSpend([], 3)).toMatchObject({ days: [0, 0, 0], total: 0 });
  });
});

describe('throttle factor', () => {
  const t = { from: 0.8, minFactor: 0.25 };
  it('is 1 below the threshold, shrinks in 5 % steps, and never goes below the floor', () => {
    expect(throttleFactor(0.79, t)).toBe(1);
    expect(throttleFactor(0.8, t)).toBe(1);
    expect(throttleFactor(0.9, t)).toBe(0.6);
    expect(throttleFactor(1, t)).toBe(0.25);
    expect(throttleFactor(3, t)).toBe(0.25);
  });
});

describe('cost report over a short period', () => {
  it('counts the whole month so far and fits the forecast on more history than the few days shown', () => {
    const until = new Date('2026-12-15T12:00:00Z');
    const since = new Date(until.getTime() - 3 * 86_400_000);
    // 10 USD a day since 1 November, in one cluster.
    const rows = Array.from({ length: 45 }, (_, i) => ({
      cluster: 'api', team: null, action: 'mint', currency: 'USD', day: new Date(Date.UTC(2026, 10, 1 + i)).toISOString().slice(0, 10), amount: 10, count: 1,
    }));
    const r = computeCosts(rows, { since, until, fitSince: costDataSince(since, until), by: 'cluster', defaultCurrency: 'USD' });
    expect(r.total).toBe(40); // 12..15 December, as shown
    expect(r.forecast.monthToDate).toBe(150); // 1..15 December, not only the days shown
    expect(r.forecast.historyDays).toBeGreaterThanOrEqual(44);
    expect(Math.round(r.forecast.monthTotal)).toBe(310);
  });
});
