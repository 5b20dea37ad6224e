import { controlKeys, readCharges } from '@infrabot/guard';
import type { Redis } from 'ioredis';
import type { RunCommand } from '../engine/ports.js';
import type { Logger } from 'pino';
import type { SqlDb } from '../store/db/sql-db.js';
import {
  advanceCursor, claimBudgetAlert, costsByDay, insertCosts, MICRO, readCursor, resolveBudgetAlert, spentMicro, unresolvedBudgetAlerts,
  type CostRow,
} from '../store/cost-store.js';
import type { ReceivedAlert } from '../engine/alerts/alert-manager.js';
import type { Budget, ControlState } from '../engine/control-state.js';
import type { Engine } from '../engine/engine.js';
import { shortId } from '../util/ids.js';
import { parseDuration } from '../util/duration.js';
import { SYSTEM_USER } from '../engine/traffic-monitor.js';

export interface BudgetSpend {
  subject: string;
  clusters: string[];
  budget: Budget;
  /** Charged so far today and this month (UTC), in the budget's currency. */
  day: number;
  month: number;
}

export interface BillingService {
  /** The database costs live in (see docs/budgets.md for how it is wired). */
  readonly db: SqlDb;
  /** Moves confirmed charges from the guards' Redis streams into the store; returns how many were new. */
  collect(): Promise<number>;
  /** Fires threshold alerts (once per threshold and period) and adjusts throttling. */
  evaluate(): Promise<void>;
  /** One round (collect, then evaluate) by the replica holding the billing lease. */
  tick(): Promise<void>;
  costs(opts: { since: Date; until: Date; cluster?: string; clusters?: readonly string[] }): Promise<CostRow[]>;
  spend(state: ControlState): Promise<BudgetSpend[]>;
  /** The clusters a budget subject (`cluster:<name>` or `team:<name>`) covers. */
  clustersOf(subject: string): string[];
  start(): void;
  stop(): Promise<void>;
}

export interface BillingDeps {
  db: SqlDb;
  engine: Engine;
  /** Redis of the guards (config `redis.url`): confirmed charges and the lease. Without it only stored costs count. */
  redis?: { client: Redis; prefix: string };
  /** Runs a command through the pipeline (throttling runs `ratelimit throttle` as `system`). */
  run: RunCommand;
  /** The normal alert path (the health monitor's received alerts); absent: alerts are only logged. */
  alert?(alerts: ReceivedAlert[]): Promise<unknown>;
  log: Logger;
}

const DAY = 86_400_000;
const utcDay = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
const utcMonth = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
const nextMonth = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
const pct = (x: number) => `${Math.round(x * 100)}%`;
const fmt = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Throttle factor for a share of a budget spent: 1 below `from`, then linearly down to `minFactor` at 100 %, in 5 % steps. */
export function throttleFactor(share: number, t: { from: number; minFactor: number }): number {
  if (share < t.from) return 1;
  const f = 1 - Math.min(1, (share - t.from) / (1 - t.from)) * (1 - t.minFactor);
  return Math.max(t.minFactor, Math.floor(f * 20) / 20);
}

export function createBillingService(deps: BillingDeps): BillingService {
  const { db, engine, log } = deps;
  const config = engine.config;
  const keys = deps.redis ? controlKeys(deps.redis.prefix) : undefined;
  const me = `billing-${shortId(8)}`;
  const intervalMs = parseDuration(config.billing.interval) ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const clustersOf = (subject: string): string[] =>
    subject.startsWith('cluster:')
      ? [subject.slice(8)]
      : Object.entries(config.clusters).filter(([, c]) => c.team === subject.slice(5)).map(([n]) => n).sort();

  /** One replica at a time collects and evaluates; the lease outlives a round so a slow one keeps it. */
  async function holdLease(): Promise<boolean> {
    if (!deps.redis || !keys) return true; // one process, nothing to share
    const r = deps.redis.client;
    const key = keys.lease('billing');
    if ((await r.set(key, me, 'PX', intervalMs * 3, 'NX')) === 'OK') return true;
    if ((await r.get(key)) !== me) return false;
    await r.pexpire(key, intervalMs * 3);
    return true;
  }

  async function collect(): Promise<number> {
    if (!deps.redis || !keys) return 0;
    let added = 0;
    const state = await engine.state();
    for (const cluster of Object.keys(state.clusters)) {
      const cur = await readCursor(db, cluster);
      const charges = await readCharges(deps.redis.client, keys, cluster, cur.lastId);
      if (charges.length === 0) continue;
      const team = Object.hasOwn(config.clusters, cluster) ? config.clusters[cluster]!.team : undefined;
      // Inserts and the cursor move commit together; a replica that lost the race rolls back and skips.
      const n = await db.transaction(async (tx) => {
        const n = await insertCosts(tx, charges.map((c) => ({
          chargeId: `${c.actionId}:${c.token}`, cluster, ...(team ? { team } : {}), action: c.action, amount: c.amount, currency: c.currency,
          at: c.at, source: 'guard' as const, digest: c.digest, ...(c.traceId ? { traceId: c.traceId } : {}),
        })));
        if (!(await advanceCursor(tx, cluster, charges.at(-1)!.id, cur.version))) throw new CursorMoved();
        return n;
      }).catch((err: unknown) => {
        if (err instanceof CursorMoved) return 0;
        throw err;
      });
      added += n;
    }
    return added;
  }

  async function spend(state: ControlState): Promise<BudgetSpend[]> {
    const now = engine.clock.now();
    const day = utcDay(now);
    const month = utcMonth(now);
    const out: BudgetSpend[] = [];
    for (const [subject, budget] of Object.entries(state.budgets ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      const clusters = clustersOf(subject);
      out.push({
        subject, clusters, budget,
        day: (await spentMicro(db, clusters, day.toISOString(), new Date(day.getTime() + DAY).toISOString())) / MICRO,
        month: (await spentMicro(db, clusters, month.toISOString(), nextMonth(now).toISOString())) / MICRO,
      });
    }
    return out;
  }

  async function evaluate(): Promise<void> {
    const state = await engine.state();
    const now = engine.clock.now();
    const at = now.toISOString();
    const periods = { daily: `day:${at.slice(0, 10)}`, monthly: `month:${at.slice(0, 7)}` };
    const fire: ReceivedAlert[] = [];
    const want = new Map<string, { factor: number; reason: string }>();
    for (const s of await spend(state)) {
      for (const window of ['daily', 'monthly'] as const) {
        const limit = s.budget[window];
        if (!limit) continue;
        const spent = window === 'daily' ? s.day : s.month;
        const share = spent / limit;
        const what = `${fmt(spent)} of ${fmt(limit)} ${s.budget.currency} ${window === 'daily' ? 'today' : 'this month'}`;
        for (const threshold of [...config.billing.thresholds].sort((a, b) => a - b)) {
          if (share < threshold) continue;
          const cluster = s.clusters[0];
          if (!cluster) continue;
          const claimed = await db.transaction((tx) => claimBudgetAlert(tx, { subject: s.subject, period: periods[window], threshold, at, spentMicro: Math.round(spent * MICRO), cluster }));
          if (!claimed) continue;
          const name = s.subject.replace(':', ' ');
          fire.push({
            status: 'firing', name: 'BudgetThreshold', cluster, severity: threshold >= 1 ? 'critical' : 'warning',
            summary: `${pct(threshold)} of the ${window} budget of ${name} reached: ${what}`,
            external: { source: 'budget', fingerprint: `${s.subject}|${periods[window]}|${threshold}`, labels: { subject: s.subject, period: periods[window], threshold: String(threshold) }, links: [] },
          });
        }
        if (config.billing.throttle.enabled) {
          const factor = throttleFactor(share, config.billing.throttle);
          for (const c of s.clusters) {
            const prev = want.get(c);
            if (!prev || factor < prev.factor) want.set(c, { factor, reason: `${s.subject.replace(':', ' ')} has spent ${pct(share)} of its ${window} budget (${what})` });
          }
        }
      }
    }
    // Alerts of periods that are over are resolved, so they do not stay firing into the next period.
    for (const old of await unresolvedBudgetAlerts(db, Object.values(periods))) {
      if (!(await db.transaction((tx) => resolveBudgetAlert(tx, old, at)))) continue;
      fire.push({
        status: 'resolved', name: 'BudgetThreshold', cluster: old.cluster, severity: old.threshold >= 1 ? 'critical' : 'warning',
        summary: `Budget period ${old.period} of ${old.subject.replace(':', ' ')} is over`,
        external: { source: 'budget', fingerprint: `${old.subject}|${old.period}|${old.threshold}`, labels: {}, links: [] },
      });
    }
    if (fire.length) {
      log.warn({ alerts: fire.map((a) => a.summary) }, 'budget thresholds');
      await deps.alert?.(fire);
    }
    if (!config.billing.throttle.enabled) return;
    for (const [name, c] of Object.entries(state.clusters)) {
      const w = want.get(name) ?? { factor: 1, reason: 'spend is below the throttling threshold again' };
      // A human holding the limits wins: nothing is changed until they run `ratelimit release`.
      if (c.manual || (c.throttle?.factor ?? 1) === w.factor) continue;
      const text = `ratelimit throttle ${name} --factor ${w.factor} --reason "${w.reason.replace(/"/g, "'")}"`;
      log.warn({ cluster: name, factor: w.factor }, 'budget throttling');
      await deps.run({ id: `auto-${shortId(12)}`, platform: 'system', user: { id: SYSTEM_USER, displayName: 'system (budget throttle)' }, text, confirmed: true });
    }
  }

  const service: BillingService = {
    db,
    collect,
    evaluate,
    clustersOf,
    spend,
    costs: (o) => costsByDay(db, { since: o.since.toISOString(), until: o.until.toISOString(), ...(o.cluster ? { cluster: o.cluster } : {}), ...(o.clusters ? { clusters: o.clusters } : {}) }),
    async tick() {
      try {
        if (!(await holdLease())) return;
        await collect();
        await evaluate();
      } catch (err) {
        log.warn({ err }, 'billing round failed; will try again');
      }
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        running ??= service.tick().finally(() => (running = undefined));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
  return service;
}

class CursorMoved extends Error {}
