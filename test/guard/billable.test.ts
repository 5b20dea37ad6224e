import { controlKeys, createGuard, readCharges, requestDigest, type ControlSnapshot, type Guard, type Reservation } from '@infrabot/guard';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL, redisPrefix, redisReachable } from '../helpers/redis.js';

const up = await redisReachable('billable actions against Redis (test/guard/billable.test.ts)');

const snapshot = (billing: NonNullable<ControlSnapshot['clusters'][string]['billing']>): ControlSnapshot => ({
  version: 1, at: new Date().toISOString(), killSwitch: { on: false },
  clusters: {
    dreams: { enabled: true, rateLimits: { perMinute: 0, perHour: 0, perDay: 0 }, breaker: { state: 'closed', cooldownMs: 1000, trickle: 0.1 }, failMode: 'open', billing },
  },
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function setup(billing: Parameters<typeof snapshot>[0] = { currency: 'USD', daily: 10, monthly: 100, prices: { 'mint-dream': 0.25 } }) {
  const keys = redisPrefix();
  const snap = snapshot(billing);
  const redis = new Redis(REDIS_URL);
  await redis.ping();
  const guard = await createGuard({ redis, prefix: keys.prefix, cluster: 'dreams', service: 'minter', source: { feed: { current: () => snap, subscribe: () => () => undefined } } });
  cleanups.push(() => keys.cleanup(), async () => redis.disconnect(), () => guard.close());
  const charges = () => readCharges(redis, controlKeys(keys.prefix), 'dreams', '0-0', 100_000);
  return { guard, redis, charges };
}

const reserved = (r: Awaited<ReturnType<Guard['reserve']>>): Reservation => {
  if (r.status !== 'reserved') throw new Error(`expected a reservation, got ${JSON.stringify(r)}`);
  return r;
};

describe.runIf(up)('billable actions (two-phase, Redis)', () => {
  it('reserve → confirm charges once; a retry replays the stored response without charging', async () => {
    const { guard, charges } = await setup();
    const r = reserved(await guard.reserve({ idempotencyKey: 'order-1', action: 'mint-dream', request: { prompt: 'a cat' } }));
    expect(r.amount).toBe(0.25);
    expect(await guard.confirm(r, { dream: 42 })).toBe('confirmed');
    expect(await guard.confirm(r, { dream: 42 })).toBe('already');
    const retry = await guard.reserve({ idempotencyKey: 'order-1', action: 'mint-dream', request: { prompt: 'a cat' } });
    expect(retry).toMatchObject({ status: 'replayed', response: { dream: 42 }, amount: 0.25 });
    expect(await charges()).toHaveLength(1);
    expect(await guard.billableStats()).toMatchObject({ pending: 0, confirmed: 1, charged: 0.25, failed: 0 });
    expect(await guard.billable('order-1')).toMatchObject({ state: 'confirmed', response: { dream: 42 }, digest: requestDigest({ prompt: 'a cat' }) });
  });

  it('refuses the same key with a different request, naming both digests', async () => {
    const { guard } = await setup();
    reserved(await guard.reserve({ idempotencyKey: 'k', action: 'mint-dream', request: { prompt: 'a cat' } }));
    const other = await guard.reserve({ idempotencyKey: 'k', action: 'mint-dream', request: { prompt: 'a dog' } });
    expect(other).toMatchObject({ status: 'refused', reason: 'idempotency-conflict' });
    expect(other.status === 'refused' && other.message).toContain(requestDigest({ prompt: 'a dog' }).slice(0, 12));
  });

  it('holds reservations against the budget at once, and releases them on cancel and on expiry', async () => {
    const { guard } = await setup({ currency: 'USD', daily: 1 });
    const a = reserved(await guard.reserve({ idempotencyKey: 'a', action: 'x', amount: 0.6 }));
    const b = await guard.reserve({ idempotencyKey: 'b', action: 'x', amount: 0.6 });
    expect(b).toMatchObject({ status: 'refused', reason: 'budget-exhausted' });
    expect(b.status === 'refused' && b.message).toContain('0.6 held by open reservations');
    expect(await guard.cancel(a)).toBe('cancelled');
    const c = reserved(await guard.reserve({ idempotencyKey: 'b', action: 'x', amount: 0.6, ttlMs: 50 }));
    await new Promise((r) => setTimeout(r, 80));
    expect(await guard.confirm(c, 'too late')).toBe('expired');
    expect(await guard.billableStats()).toMatchObject({ pending: 0, held: 0, charged: 0, cancelled: 1, expired: 1, failed: 2, refusedForBudget: 1 });
    reserved(await guard.reserve({ idempotencyKey: 'c', action: 'x', amount: 1 }));
  });

  it('refuses an unpriced action, a foreign currency and bad input clearly', async () => {
    const { guard } = await setup();
    expect(await guard.reserve({ idempotencyKey: 'p', action: 'unknown-thing' })).toMatchObject({ status: 'refused', reason: 'unpriced' });
    expect(await guard.reserve({ idempotencyKey: 'p', action: 'x', amount: 1, currency: 'EUR' })).toMatchObject({ status: 'refused', reason: 'currency-mismatch' });
    await expect(guard.reserve({ idempotencyKey: 'has space', action: 'x', amount: 1 })).rejects.toThrow(/idempotencyKey "has space"/);
    await expect(guard.reserve({ idempotencyKey: 'p', action: 'x', amount: -1 })).rejects.toThrow(/amount -1/);
  });

  it('property: concurrent retries, crashes between reserve and confirm, and expiry never double-charge, never lose a confirmed charge, never overspend', async () => {
    const { guard, charges } = await setup({ currency: 'USD', daily: 20, monthly: 20 });
    // One attempt of a client: reserve, then confirm, cancel, or crash (never finish: the TTL releases it).
    const attempt = fc.record({ key: fc.integer({ min: 0, max: 7 }), end: fc.constantFrom('confirm', 'cancel', 'crash'), delayMs: fc.integer({ min: 0, max: 30 }) });
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(attempt, { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 6 }), async (clients) => {
        round++;
        const confirmedOk: { actionId: string; token: string }[] = [];
        const run = async (steps: typeof clients[number]) => {
          for (const s of steps) {
            // The key's amount is part of its request, so a retry of one key is the same request.
            const key = `r${round}-k${s.key}`;
            const amount = ((s.key % 4) + 1) * 0.1;
            const r = await guard.reserve({ idempotencyKey: key, action: 'mint', amount, request: { key }, ttlMs: 40 });
            if (r.status !== 'reserved') continue;
            await new Promise((res) => setTimeout(res, s.delayMs));
            if (s.end === 'confirm' && (await guard.confirm(r, { key })) === 'confirmed') confirmedOk.push({ actionId: r.actionId, token: r.token });
            else if (s.end === 'cancel') await guard.cancel(r);
          }
        };
        await Promise.all(clients.map(run));
        const all = await charges();
        const thisRound = all.filter((c) => c.actionId.startsWith(`dreams:r${round}-`));
        // Never a double charge: one charge per key at most.
        expect(new Set(thisRound.map((c) => c.actionId)).size).toBe(thisRound.length);
        // Never a lost confirmed charge: every confirm that said so is in the stream, with its attempt.
        for (const c of confirmedOk) expect(thisRound.some((x) => x.actionId === c.actionId && x.token === c.token)).toBe(true);
        expect(thisRound).toHaveLength(confirmedOk.length);
        // The budget is never exceeded: charged + still held stays within it.
        const stats = await guard.billableStats();
        expect(stats.charged + stats.held).toBeLessThanOrEqual(20 + 1e-9);
        expect(Math.abs(stats.charged - all.reduce((s, c) => s + c.amount, 0))).toBeLessThan(1e-9);
      }),
      { numRuns: 25 },
    );
    // Crashed attempts release their hold once their TTL passes.
    await new Promise((r) => setTimeout(r, 60));
    expect(await guard.billableStats()).toMatchObject({ pending: 0, held: 0 });
  }, 60_000);
});
