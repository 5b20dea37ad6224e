import type { Logger } from 'pino';
import { ChatRateLimitedError, ChatRefusedError, ChatTargetGoneError, type ChatSink, type Message as Reply, type PostedMessage } from '../ports.js';
import type { Delivery, HealthStore, OutboxFailureKind, OutboxJob } from '../../store/health-store.js';
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
  onFailed?: (job: OutboxJob, reason: OutboxFailureKind, dead: boolean) => void;
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

/**
 * Runs `work` with a signal that is aborted (and the returned promise rejected) after `ms`: the chat call is
 * cancelled, not merely abandoned, so it cannot land later behind the retry's back.
 */
async function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DeliveryTimeoutError(ms);
      controller.abort(err);
      reject(err);
    }, ms);
    timer.unref();
  });
  return Promise.race([work(controller.signal), deadline]).finally(() => clearTimeout(timer));
}

/** The key a job's posts carry (Slack metadata, Discord nonce): the same on every attempt of the job. */
export const outboxKey = (job: Pick<OutboxJob, 'notificationId' | 'seq'>) => `${job.notificationId}:${job.seq}`;

function failureKind(err: unknown): OutboxFailureKind {
  if (err instanceof ChatRateLimitedError) return 'rate_limited';
  if (err instanceof DeliveryTimeoutError) return 'timeout';
  if (err instanceof ChatTargetGoneError) return 'gone';
  if (err instanceof ChatRefusedError) return 'refused';
  return 'error';
}

/**
 * Delivers the durable outbox: each job posts or updates an alert/incident message, or replies in its
 * thread. Failures are retried with exponential backoff; a 429 waits exactly the platform's Retry-After.
 * Jobs for one message go strictly in order, so a resolution never overtakes the alert it resolves.
 *
 * Posting once: a job is finished only by the holder of its lease token; every chat call is aborted at the
 * deadline; a post carries the job's key, so after an attempt whose outcome is unknown the retry finds the
 * earlier message (Slack) or the platform returns it (Discord's enforced nonce) instead of a second message.
 * A message deleted in chat is posted afresh; a channel out of reach or refused content dead-letters the job
 * at once, so it never holds back the jobs behind it.
 */
export function createOutboxDeliverer(deps: OutboxDelivererDeps): OutboxDeliverer {
  const { health, clock, timers, log } = deps;
  const sinks = new Map<string, ChatSink>();
  const maxAgeMs = deps.maxAgeMs ?? 24 * 3_600_000;
  const deliverTimeoutMs = Math.min(deps.deliverTimeoutMs ?? DELIVER_TIMEOUT_MS, LEASE_MS / 2);
  let timer: unknown;
  let started = false;

  /** Posts unless an earlier attempt of this job may have posted already and the platform can tell us so. */
  async function postOnce(job: OutboxJob, sink: ChatSink, reply: Reply, opts: { key: string; threadId?: string; signal: AbortSignal }): Promise<PostedMessage> {
    const uncertain = job.claims > 1 && job.lastFailure !== 'rate_limited' && job.lastFailure !== 'refused';
    if (uncertain && sink.findPosted) {
      const earlier = await sink.findPosted(job.channel, opts.key, { signal: opts.signal, since: job.createdAt, ...(opts.threadId ? { threadId: opts.threadId } : {}) }).catch((err: unknown) => {
        if (err instanceof ChatRateLimitedError || opts.signal.aborted) throw err;
        // Unable to look (no history scope, not a member of the channel): posting risks a duplicate, not posting loses the alert.
        log.warn({ err, seq: job.seq, platform: job.platform, channel: job.channel }, 'could not look for an earlier attempt\'s message; posting, which may duplicate it');
        return undefined;
      });
      if (earlier) {
        log.info({ seq: job.seq, platform: job.platform, messageId: earlier.messageId }, 'an earlier attempt had posted this message; updating it instead of posting again');
        if (job.op === 'sync') await sink.update(earlier, reply, { signal: opts.signal });
        return earlier;
      }
    }
    return sink.post(job.channel, reply, { key: opts.key, signal: opts.signal, ...(opts.threadId ? { threadId: opts.threadId } : {}) });
  }

  /** Does the job's chat calls; returns the message to record as the notification's delivery, if it changed. */
  async function deliver(job: OutboxJob, signal: AbortSignal): Promise<Delivery | undefined> {
    const sink = sinks.get(job.platform)!;
    const now = clock.now();
    const key = outboxKey(job);
    const existing = (await health.deliveries(job.notificationId)).find((d) => d.platform === job.platform && d.channel === job.channel);
    const record = (m: PostedMessage): Delivery => ({ notificationId: job.notificationId, platform: job.platform, channel: job.channel, messageId: m.messageId });
    if (job.op === 'sync') {
      const n = await health.notification(job.notificationId);
      if (!n) return undefined;
      const reply = await renderNotification(n, { health, store: deps.store, now, ...(deps.buttonTtlMs ? { buttonTtlMs: deps.buttonTtlMs } : {}) });
      if (!existing) return record(await postOnce(job, sink, reply, { key, signal }));
      try {
        await sink.update({ platform: existing.platform, channel: existing.channel, messageId: existing.messageId, ...(existing.threadId ? { threadId: existing.threadId } : {}) }, reply, { signal });
        return undefined;
      } catch (err) {
        if (!(err instanceof ChatTargetGoneError && err.target === 'message')) throw err;
        // Someone deleted the message: the notification is still live, so it is posted again and followed from there.
        log.warn({ seq: job.seq, platform: job.platform, channel: job.channel, messageId: existing.messageId }, 'notification message was deleted in chat; posting it afresh');
        return record(await postOnce(job, sink, reply, { key: `${key}:afresh`, signal }));
      }
    }
    if (!job.body) return undefined;
    // The head message never made it (dead job), or was deleted: post the reply on its own rather than lose it.
    const alone = () => postOnce(job, sink, job.body!, { key: `${key}:alone`, signal }).then(() => undefined);
    if (!existing) return alone();
    try {
      let threadId = existing.threadId;
      if (!threadId) {
        const message = { platform: existing.platform, channel: existing.channel, messageId: existing.messageId };
        threadId = sink.openThread ? await sink.openThread(message, job.body.title.slice(0, 90), { signal }) : existing.messageId;
        await health.saveDelivery({ ...existing, threadId });
      }
      await postOnce(job, sink, job.body, { key, threadId, signal });
      return undefined;
    } catch (err) {
      if (!(err instanceof ChatTargetGoneError && err.target === 'message')) throw err;
      log.warn({ seq: job.seq, platform: job.platform, channel: job.channel, messageId: existing.messageId }, 'thread of a deleted message; posting the reply on its own');
      return alone();
    }
  }

  /** The lease ran out and another deliverer took the job over: its outcome counts, this one's is dropped. */
  const leaseLost = (job: OutboxJob) =>
    log.warn({ seq: job.seq, platform: job.platform }, "outbox lease lost (another process took the job over); this attempt's result is discarded");

  async function attempt(job: OutboxJob): Promise<boolean> {
    try {
      // Real time, not the injectable clock: this bounds a hung network call.
      const delivery = await (deps.tracer ?? noTracer).span('chat.deliver', { 'chat.platform': job.platform, 'chat.op': job.op, 'infrabot.notification': job.notificationId }, () =>
        withDeadline((signal) => deliver(job, signal), deliverTimeoutMs),
      );
      const done = await health.completeOutbox({ seq: job.seq, leaseToken: job.leaseToken, ...(delivery ? { delivery } : {}) });
      if (done) deps.onDelivered?.(job);
      else leaseLost(job);
      return done;
    } catch (err) {
      const at = clock.now();
      const kind = failureKind(err);
      const wait = err instanceof ChatRateLimitedError ? err.retryAfterMs : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** job.attempts);
      // A channel out of reach or refused content cannot succeed later: give up now rather than block the jobs behind it.
      const dead = kind === 'gone' || kind === 'refused' || at.getTime() - Date.parse(job.createdAt) > maxAgeMs;
      const message = err instanceof Error ? err.message : String(err);
      (dead ? log.error.bind(log) : log.warn.bind(log))({ err, seq: job.seq, platform: job.platform, attempts: job.attempts + 1, ...(dead ? {} : { retryInMs: wait }) }, dead ? 'notification given up' : 'notification delivery failed; will retry');
      const kept = await health.retryOutbox({ seq: job.seq, leaseToken: job.leaseToken, nextAttemptAt: new Date(at.getTime() + wait).toISOString(), error: message, kind, dead });
      if (kept) deps.onFailed?.(job, kind, dead);
      else leaseLost(job);
      return false;
    }
  }

  async function drainOnce(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const now = clock.now();
      const jobs = await health.claimOutbox(now.toISOString(), [...sinks.keys()], 32, new Date(now.getTime() + LEASE_MS).toISOString());
      if (jobs.length === 0) break;
      const results = await Promise.all(jobs.map(attempt));
      delivered += results.filter(Boolean).length;
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
