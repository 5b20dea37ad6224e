import { describe, expect, it } from 'vitest';
import { checkSchema } from '../../src/config/health-config-schema.js';
import { evaluateCheck, initialCheckState, type Transition } from '../../src/engine/checks/evaluate-check.js';

/** mulberry32: a small seeded generator, so the jitter is real but the run is repeatable. */
function seeded(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('a lasting slowdown', () => {
  // The default degraded settings (z 3, 25 ms, after 3), probed every 10 s like the example config.
  const check = checkSchema.parse({ name: 'web-home', type: 'http', url: 'http://127.0.0.1:1/health', interval: '10s' });

  for (const seed of [1, 7, 42, 2026]) {
    it(`stays DEGRADED for 10 minutes of 1.5 s probes and resolves only when latency returns (seed ${seed})`, () => {
      const random = seeded(seed);
      // Loopback service: about 2 ms with jitter and the occasional 15 ms hiccup; slow mode: 1.5 s ± 150 ms.
      const fast = () => 1 + random() * 3 + (random() < 0.05 ? random() * 15 : 0);
      const slow = () => 1500 + (random() - 0.5) * 300;
      let state = initialCheckState(check, 'web', '2026-12-01T00:00:00.000Z');
      let t = Date.parse('2026-12-01T00:00:00.000Z');
      const all: Transition[] = [];
      const probe = (latencyMs: number) => {
        t += 10_000;
        const r = evaluateCheck(check, state, { ok: true, latencyMs }, new Date(t).toISOString());
        state = r.state;
        all.push(...r.transitions);
        return r.transitions;
      };

      for (let i = 0; i < 60; i++) probe(fast()); // 10 minutes of normal traffic
      expect(state.status).toBe('up');
      expect(all).toEqual([]);

      const during: Transition[] = [];
      for (let i = 0; i < 60; i++) during.push(...probe(slow())); // 10 minutes of slowdown
      expect(during).toHaveLength(1);
      expect(during[0]).toMatchObject({ type: 'fire', kind: 'degraded' });
      // The alert names the real pre-incident baseline (a few ms), not one dragged up by the slow samples.
      const baseline = Number(/against a baseline of (\d+) ms/.exec(during[0]!.summary)![1]);
      expect(baseline).toBeLessThanOrEqual(10);
      expect(state.status).toBe('degraded');

      const after: Transition[] = [];
      for (let i = 0; i < 5; i++) after.push(...probe(fast())); // the service recovers
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({ type: 'resolve', kind: 'degraded' });
      expect(after[0]!.summary).toMatch(/back to normal: \d+ ms against a baseline of \d ms/);
      expect(state.status).toBe('up');
    });
  }

  it('is still DEGRADED when latency falls but stays well above the old baseline', () => {
    const random = seeded(3);
    let state = initialCheckState(check, 'web', '2026-12-01T00:00:00.000Z');
    for (let i = 0; i < 30; i++) state = evaluateCheck(check, state, { ok: true, latencyMs: 2 + random() * 2 }, '2026-12-01T00:00:00Z').state;
    for (let i = 0; i < 20; i++) state = evaluateCheck(check, state, { ok: true, latencyMs: 1500 }, '2026-12-01T00:00:00Z').state;
    for (let i = 0; i < 20; i++) state = evaluateCheck(check, state, { ok: true, latencyMs: 400 + random() * 50 }, '2026-12-01T00:00:00Z').state;
    expect(state.status).toBe('degraded');
  });
});
