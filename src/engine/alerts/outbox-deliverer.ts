import type { Logger } from 'pino';
import { ChatRateLimitedError, type ChatSink } from '../ports.js';
import type { HealthStore, OutboxJob } from '../../store/health-store.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../engine.js';
import type { Timers } from '../timers.js';
import { renderNotification } from './render-notification.js';
import { createCoalescedRound } from '../../util/create-coalesced-round.js';
import { noTracer, type Tracer } from '../../tracing/tracer.js';

export interface OutboxDeliverer {
  addSink(sink: ChatSink): void;
  /** Platforms this process can deliver to (those with a sink). */
  platforms(): string[];
  /** Delivers every job due now (in order per message); returns how many were handed to a sink. */
  drain(): Promise<number>;
  /** Asks for a drain soon (coalesced); called right after a commit that wrote outbox rows. */
  kick(): void;
  start(): void;
  stop(): Promise<void>;
}

export interface OutboxDelivererDeps {
  health: HealthStore;
  store: Store;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** Give up on a job this long after it was written (ms). */
  maxAgeMs?: number;
  /** How long the buttons on an alert message stay valid (ms). */
  buttonTtlMs?: number;
  /** A sink call not settled by then counts as failed (retryable); must be shorter than the lease (ms). */
  deliverTimeoutMs?: number;
  /** Called after each successful hand-off (benchmarks measure it). */
  onDelivered?: (job: OutboxJob) => void;
  /** Called after each failed hand-off; `dead` when the job was given up (metrics, the dead-letter notice). */
  onFailed?: (job: OutboxJob, reason: 'rate_limited' | 'timeout' | 'error', dead: boolean) => void;
  /** Spans around each chat API hand-off (noTracer when tracing is off). */
  tracer?: Tracer;
}

const LEASE_MS = 60_000;
/** Well inside the lease, so a job is never delivered by two processes because one hung past its lease. */
const DELIVER_TIMEOUT_MS = 30_000;
const MAX_BACKOFF_MS = 5 * 60_000;

export class DeliveryTimeoutError extends Error {
  constructor(ms: number) {
    super(`chat API did not answer within ${ms} ms`);
    this.name = 'DeliveryTimeoutError';
  }
}

/** Rejects after `ms` if `work` has not settled; the hung call is abandoned (its late result ignored). */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeliveryTimeoutError(ms)), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Delivers the durable outbox: each job posts or updates an alert/incident message, or replies in its
 * thread. Failures are retried with exponential backoff; a 429 waits exactly the platform's Retry-After.
 * Jobs for one message go strictly in order, so a resolution never overtakes the alert it resolves.
 */
export function createOutboxDeliverer(deps: OutboxDelivererDeps): OutboxDeliverer {
  const { health, clock, timers, log } = deps;
  const sinks = new Map<string, ChatSink>();
  const maxAgeMs = deps.maxAgeMs ?? 24 * 3_600_000;
  const deliverTimeoutMs = Math.min(deps.deliverTimeoutMs ?? DELIVER_TIMEOUT_MS, LEASE_MS / 2);
  let timer: unknown;
  let started = false;

  async function deliver(job: OutboxJob): Promise<void> {
    const sink = sinks.get(job.platform)!;
    const now = clock.now();
    const existing = (await health.deliveries(job.notificationId)).find((d) => d.platform === job.platform && d.channel === job.channel);
    if (job.op === 'sync') {
      const n = await health.notification(job.notificationId);
      if (!n) return;
      const reply = await renderNotification(n, { health, store: deps.store, now, ...(deps.buttonTtlMs ? { buttonTtlMs: deps.buttonTtlMs } : {}) });
      if (existing) {
        await sink.update({ platform: existing.platform, channel: existing.channel, messageId: existing.messageId, ...(existing.threadId ? { threadId: existing.threadId } : {}) }, reply);
      } else {
        const posted = await sink.post(job.channel, reply);
        await health.saveDelivery({ notificationId: job.notificationId, platform: job.platform, channel: job.channel, messageId: posted.messageId });
      }
      return;
    }
    if (!job.body) return;
    if (!existing) {
      // The head message never made it (dead job): post the reply on its own rather than lose it.
      await sink.post(job.channel, job.body);
      return;
    }
    let threadId = existing.threadId;
    if (!threadId) {
      const message = { platform: existing.platform, channel: existing.channel, messageId: existing.messageId };
      threadId = sink.openThread ? await sink.openThread(message, job.body.title.slice(0, 90)) : existing.messageId;
      await health.saveDelivery({ ...existing, threadId });
    }
    await sink.post(job.channel, job.body, { threadId });
  }

  async function drainOnce(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const now = clock.now();
      const jobs = await health.claimOutbox(now.toISOString(), [...sinks.keys()], 32, new Date(now.getTime() + LEASE_MS).toISOString());
      if (jobs.length === 0) break;
      await Promise.all(
        jobs.map(async (job) => {
          try {
            // Real time, not the injectable clock: this bounds a hung network call.
            await (deps.tracer ?? noTracer).span('chat.deliver', { 'chat.platform': job.platform, 'chat.op': job.op, 'infrabot.notification': job.notificationId }, () =>
              withDeadline(deliver(job), deliverTimeoutMs),
            );
            await health.completeOutbox(job.seq);
            delivered++;
            deps.onDelivered?.(job);
          } catch (err) {
            const at = clock.now();
            const wait = err instanceof ChatRateLimitedError ? err.retryAfterMs : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** job.attempts);
            const dead = at.getTime() - Date.parse(job.createdAt) > maxAgeMs;
            const message = err instanceof Error ? err.message : String(err);
            (dead ? log.error.bind(log) : log.warn.bind(log))({ err, seq: job.seq, platform: job.platform, attempts: job.attempts + 1, retryInMs: wait }, dead ? 'notification given up' : 'notification delivery failed; will retry');
            await health.retryOutbox(job.seq, new Date(at.getTime() + wait).toISOString(), message, dead);
            deps.onFailed?.(job, err instanceof ChatRateLimitedError ? 'rate_limited' : err instanceof DeliveryTimeoutError ? 'timeout' : 'error', dead);
          }
        }),
      );
    }
    return delivered;
  }

  async function schedule(): Promise<void> {
    if (!started) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
    // Only platforms this process serves: others' jobs wait for a process that has their sink.
    const pending = await health.pendingOutbox([...sinks.keys()]);
    if (!pending.nextAttemptAt) return;
    const delay = Math.max(0, Date.parse(pending.nextAttemptAt) - clock.now().getTime());
    timer = timers.setTimeout(() => {
      timer = undefined;
      void deliverer.drain();
    }, Math.max(delay, 50));
  }

  const deliverer: OutboxDeliverer = {
    addSink(sink) {
      sinks.set(sink.platform, sink);
    },
    platforms: () => [...sinks.keys()],
    drain: () => rounds.run(),
    kick() {
      void deliverer.drain();
    },
    start() {
      started = true;
      void deliverer.drain();
    },
    async stop() {
      started = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      await rounds.current();
    },
  };
  const rounds = createCoalescedRound(drainOnce, {
    onError: (err) => log.error({ err }, 'outbox drain failed'),
    // Also after a failed drain: otherwise nothing would retry until the next commit kicks it.
    after: () =>
      schedule().catch((err: unknown) => {
        log.error({ err }, 'outbox could not schedule its next drain; retrying in 5 s');
        if (started) timer = timers.setTimeout(() => ((timer = undefined), void deliverer.drain()), 5000);
      }),
  });
  return deliverer;
}
