import { Redis } from 'ioredis';
import { ALLOW, deny, type Decision, type DenyReason } from './decision.js';
import { createLocalRateLimiter, decideRateLimit } from './decide-rate-limit.js';
import { billableStats, finishBillable, readBillable, reserveBillable, type BillableRecord, type BillableStats, type FinishOutcome, type Reservation, type ReserveInput, type ReserveResult } from './billable.js';
import { controlKeys, DEFAULT_PREFIX } from './keys.js';
import { createOutcomeReporter } from './outcome-reporter.js';
import { redisSource } from './redis-source.js';
import { breakerPhase, type ClusterSnapshot, type ControlSnapshot } from './snapshot.js';
import { feedSource, type ControlFeed, type SnapshotSource, type SourceSink } from './snapshot-source.js';
import { sseSource, type SseSourceOptions } from './sse-source.js';

export interface GuardOptions {
  /** The cluster this service belongs to. */
  cluster: string;
  /** This service's name, reported with its traffic ("~1,240 req/s from 3 services"). */
  service: string;
  /**
   * Redis: an ioredis client (the guard duplicates it for pub/sub and leaves it open on close) or a URL.
   * Omit it and give `source` to run without Redis (rate limits are then counted in this process only).
   */
  redis?: Redis | string;
  /**
   * Where snapshots come from instead of Redis pub/sub: the bot's SSE stream, or an in-process feed. With
   * `redis` also given, Redis still decides rate limits and receives outcome reports.
   */
  source?: { sse: SseSourceOptions } | { feed: ControlFeed };
  /** Key prefix shared with the bot (config `redis.prefix`). */
  prefix?: string;
  /** Overrides the cluster's configured behaviour when the rate limiter cannot be reached. */
  failMode?: 'open' | 'closed';
  /** Longest wait for a rate-limit answer from Redis before the fail mode applies (default 250 ms). */
  rateLimitTimeoutMs?: number;
  /** How often the snapshot is re-read from Redis even when nothing was announced (default 30 s). */
  resyncIntervalMs?: number;
  /** How long `createGuard` waits for the first snapshot before starting stale (default 5 s). */
  readyTimeoutMs?: number;
  /** How often aggregated outcomes go to Redis (default 1 s). */
  reportIntervalMs?: number;
  /** Called with problems the guard handles itself (lost connections); it never throws them at requests. */
  onError?: (err: unknown) => void;
  now?: () => number;
}

export interface GuardHealth {
  /** `ready`: current; `stale`: source unreachable, last snapshot in use; `starting`: no snapshot yet. */
  status: 'ready' | 'stale' | 'starting';
  source: SnapshotSource['kind'];
  cluster: string;
  service: string;
  version?: number;
  staleSince?: string;
  /** Times the snapshot was re-read because of a reconnect, a version gap or the periodic check. */
  resyncs: number;
}

export interface Guard {
  /** Kill-switch, cluster and breaker from the local snapshot, then the rate limit (one Redis round trip). */
  check(opts?: { key?: string; cost?: number }): Promise<Decision>;
  /** The local part of `check` only: no I/O, no rate limit. */
  checkLocal(): Decision;
  /** Reports how a request the guard allowed ended, for live traffic and automatic breaker trips. */
  report(outcome: { error: boolean; latencyMs: number }): void;
  /** Reports many finished requests at once (what `POST /api/control/report` does for other languages). */
  reportMany(totals: { finished: number; errors: number; latencyMsTotal: number }): void;
  /**
   * Phase one of a billable action: holds `amount` against the cluster's budget. Returns the reservation, the
   * stored response when this key already completed (`replayed`), or a refusal (budget, a different request
   * under the same key, another attempt in progress). Needs Redis.
   */
  reserve(input: ReserveInput): Promise<ReserveResult>;
  /** Phase two, after the response is stored: charges the reservation and keeps `response` for replays. */
  confirm(r: Reservation, response: unknown, opts?: { traceId?: string }): Promise<FinishOutcome>;
  /** Releases the reservation (the work failed); nothing is charged. */
  cancel(r: Reservation): Promise<FinishOutcome>;
  /** One billable action of this cluster by idempotency key. */
  billable(idempotencyKey: string): Promise<BillableRecord | undefined>;
  billableStats(): Promise<BillableStats>;
  snapshot(): ControlSnapshot | undefined;
  health(): GuardHealth;
  /** Called with every newer snapshot; returns an unsubscribe function. */
  onChange(listener: (snapshot: ControlSnapshot) => void): () => void;
  /** Called when the guard becomes stale or current again; returns an unsubscribe function. */
  onStatus(listener: (status: GuardHealth['status']) => void): () => void;
  readonly cluster: string;
  readonly service: string;
  close(): Promise<void>;
}

/**
 * Creates a guard and waits (up to `readyTimeoutMs`) for its first snapshot. Without one it starts in
 * status `starting`: `check` then follows the guard's `failMode` option (allow by default) until a snapshot
 * arrives.
 */
export async function createGuard(opts: GuardOptions): Promise<Guard> {
  const now = opts.now ?? Date.now;
  const keys = controlKeys(opts.prefix ?? DEFAULT_PREFIX);
  // A dead Redis fails every request the same way: tell the service once per problem, not once per request.
  let lastProblem = '';
  let lastProblemAt = 0;
  const onError = (err: unknown) => {
    const problem = err instanceof Error ? err.message : String(err);
    if (problem === lastProblem && Date.now() - lastProblemAt < 10_000) return;
    lastProblem = problem;
    lastProblemAt = Date.now();
    opts.onError?.(err);
  };
  const owned: Redis[] = [];
  let redis: Redis | undefined;
  if (typeof opts.redis === 'string') {
    // No offline queue: while Redis is away a rate-limit call fails at once and the fail mode applies.
    redis = new Redis(opts.redis, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    owned.push(redis);
  } else if (opts.redis) redis = opts.redis;
  if (!redis && !opts.source) throw new TypeError('createGuard needs `redis` (a client or URL) or a `source` ({ sse } or { feed }).');

  // An explicit source wins; Redis is then used for rate limits and outcome reports only.
  let source: SnapshotSource;
  if (opts.source) source = 'sse' in opts.source ? sseSource(opts.source.sse) : feedSource(opts.source.feed);
  else {
    const subscriber = redis!.duplicate({ enableOfflineQueue: true });
    owned.push(subscriber);
    subscriber.on('error', () => undefined); // reported through the source as staleness
    source = redisSource({ redis: redis!, subscriber, keys, onError });
  }
  redis?.on('error', onError);

  let current: ControlSnapshot | undefined;
  let staleSince: number | undefined = now();
  let resyncs = 0;
  let sourceUp = false;
  let trickleCounter = 0;
  const listeners = new Set<(s: ControlSnapshot) => void>();
  const statusListeners = new Set<(status: GuardHealth['status']) => void>();
  let lastStatus: GuardHealth['status'] = 'starting';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));

  const sink: SourceSink = {
    current: () => current,
    offer(snap, how) {
      if (current && snap.version <= current.version) return;
      current = snap;
      if (how === 'resync') resyncs++;
      settle();
      for (const l of listeners) {
        try {
          l(snap);
        } catch (err) {
          onError(err);
        }
      }
    },
    connected(ok, err) {
      sourceUp = ok;
      settle();
      if (err) onError(err);
    },
  };
  /** Current = a snapshot and a live source; anything else is stale from the moment it started. */
  function settle() {
    if (sourceUp && current) {
      staleSince = undefined;
      markReady();
    } else staleSince ??= now();
    const status: GuardHealth['status'] = !current ? 'starting' : staleSince !== undefined ? 'stale' : 'ready';
    if (status === lastStatus) return;
    lastStatus = status;
    for (const l of statusListeners) {
      try {
        l(status);
      } catch (err) {
        onError(err);
      }
    }
  }
  source.start(sink);
  const resyncTimer = setInterval(() => void source.resync(), opts.resyncIntervalMs ?? 30_000);
  resyncTimer.unref();
  let readyTimer: NodeJS.Timeout | undefined;
  await Promise.race([ready, new Promise<void>((r) => (readyTimer = setTimeout(r, opts.readyTimeoutMs ?? 5_000)))]);
  clearTimeout(readyTimer);

  const reporter = createOutcomeReporter({
    ...(redis ? { redis } : {}), keys, cluster: opts.cluster, service: opts.service, intervalMs: opts.reportIntervalMs ?? 1_000, now,
    health: () => health(),
  });
  const localLimiter = createLocalRateLimiter(now);
  const timeoutMs = opts.rateLimitTimeoutMs ?? 250;

  function health(): GuardHealth {
    return {
      status: !current ? 'starting' : staleSince !== undefined ? 'stale' : 'ready',
      source: source.kind,
      cluster: opts.cluster,
      service: opts.service,
      ...(current ? { version: current.version } : {}),
      ...(staleSince !== undefined ? { staleSince: new Date(staleSince).toISOString() } : {}),
      resyncs,
    };
  }

  const billingRedis = (): Redis => {
    if (!redis) throw new TypeError('Billable actions need Redis: give createGuard a `redis` client or URL.');
    return redis;
  };

  const clusterOf = (): ClusterSnapshot | undefined =>
    current && Object.hasOwn(current.clusters, opts.cluster) ? current.clusters[opts.cluster] : undefined;

  function local(): Decision {
    if (!current) return ALLOW;
    if (current.killSwitch.on) return deny('killswitch', 1_000);
    const c = clusterOf();
    if (!c) return ALLOW; // a cluster the bot does not know: nothing to enforce
    if (!c.enabled) return deny('cluster-disabled', 1_000);
    const phase = breakerPhase(c.breaker, now());
    if (phase === 'open') return deny('breaker-open', Date.parse(c.breaker.openedAt ?? '') + c.breaker.cooldownMs - now() || 1_000);
    if (phase === 'half-open') {
      // Let a steady share through as trial traffic: every n-th request, n = 1 / trickle.
      const every = c.breaker.trickle > 0 ? Math.max(1, Math.round(1 / c.breaker.trickle)) : Infinity;
      if (trickleCounter++ % every !== 0) return deny('breaker-open', 1_000);
    }
    return ALLOW;
  }

  const record = (d: Decision): Decision => {
    reporter.checked(d.allowed ? 'allow' : d.reason, staleSince !== undefined);
    return d;
  };

  async function rateLimit(c: ClusterSnapshot, key: string | undefined, cost: number): Promise<Decision> {
    const l = c.rateLimits;
    if (!(l.perMinute > 0 || l.perHour > 0 || l.perDay > 0)) return ALLOW;
    let r;
    if (!redis) r = localLimiter(opts.cluster, l, key, cost);
    else {
      let timer: NodeJS.Timeout | undefined;
      try {
        r = await Promise.race([
          decideRateLimit(redis, keys, opts.cluster, l, key, cost),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`rate limiter did not answer within ${timeoutMs} ms`)), timeoutMs))),
        ]);
      } catch (err) {
        onError(err);
        return (opts.failMode ?? c.failMode) === 'closed' ? deny('unavailable', 1_000) : { allowed: true, degraded: 'rate-limit-unavailable' };
      } finally {
        clearTimeout(timer);
      }
    }
    return r.allowed ? { allowed: true, remaining: r.remaining } : deny('rate-limited', r.retryAfterMs);
  }

  return {
    cluster: opts.cluster,
    service: opts.service,
    checkLocal: local,
    async check(o = {}) {
      // No snapshot yet (the source was never reached): nothing to enforce but the fail mode.
      if (!current) return record(opts.failMode === 'closed' ? deny('unavailable', 1_000) : { allowed: true, degraded: 'stale' });
      const d = local();
      const c = clusterOf();
      if (!d.allowed || !c) return record(d);
      const r = await rateLimit(c, o.key, o.cost ?? 1);
      return record(r.allowed && staleSince !== undefined && !r.degraded ? { ...r, degraded: 'stale' } : r);
    },
    async reserve(input) {
      const r = billingRedis();
      // Without a snapshot the budget is unknown: only a fail-closed guard refuses.
      if (!current && opts.failMode === 'closed') {
        return { status: 'refused', actionId: `${opts.cluster}:${input.idempotencyKey}`, reason: 'unavailable', message: 'No control snapshot yet, so the budget is unknown.', retryAfterMs: 1_000, digest: '' };
      }
      return reserveBillable(r, keys, opts.cluster, clusterOf(), input);
    },
    confirm: (r, response, o = {}) => finishBillable(billingRedis(), keys, r, 'confirm', response, o.traceId),
    cancel: (r) => finishBillable(billingRedis(), keys, r, 'cancel'),
    billable: (key) => readBillable(billingRedis(), keys, opts.cluster, key),
    billableStats: () => billableStats(billingRedis(), keys, opts.cluster),
    report: ({ error, latencyMs }) => reporter.finished(error, latencyMs),
    reportMany: ({ finished, errors, latencyMsTotal }) => reporter.finishedMany(finished, errors, latencyMsTotal),
    snapshot: () => current,
    health,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    async close() {
      clearInterval(resyncTimer);
      await source.stop();
      await reporter.close();
      redis?.off('error', onError);
      await Promise.allSettled(owned.map((c) => c.quit()));
      for (const c of owned) c.disconnect();
    },
  };
}

export type { DenyReason };
