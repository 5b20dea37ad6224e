import type { SqlDb } from '../store/db/sql-db.js';
import { insertCosts, type CostEntry } from '../store/cost-store.js';

/** A small deterministic PRNG (mulberry32), so the seeded history is the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Daily spend of a made-up but plausible service: a rising trend, quieter weekends, ±10 % noise. The
 * simulated fleet seeds it so `costs` has a history to chart and to state its forecast error on.
 */
export function seededSpendHistory(days: number, seed = 7): number[] {
  const r = rng(seed);
  return Array.from({ length: days }, (_, i) => {
    const weekend = i % 7 === 5 || i % 7 === 6 ? 0.7 : 1;
    return Math.round((40 + 0.6 * i) * weekend * (0.9 + 0.2 * r()) * 100) / 100;
  });
}

/** Seeds `days` of history (ending yesterday) over the given clusters, once: seeded rows have fixed ids. */
export async function seedCostHistory(db: SqlDb, clusters: readonly { name: string; team?: string }[], now: Date, days = 60, currency = 'USD'): Promise<number> {
  const history = seededSpendHistory(days);
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const entries: CostEntry[] = [];
  history.forEach((amount, i) => {
    const day = new Date(today - (days - i) * 86_400_000).toISOString().slice(0, 10);
    clusters.forEach((c, j) => {
      const share = Math.round((amount / clusters.length) * 100) / 100;
      entries.push({ chargeId: `seed:${c.name}:${day}`, cluster: c.name, ...(c.team ? { team: c.team } : {}), action: j % 2 ? 'render' : 'mint-dream', amount: share, currency, at: `${day}T12:00:00.000Z`, source: 'seed' });
    });
  });
  return db.transaction((tx) => insertCosts(tx, entries));
}
