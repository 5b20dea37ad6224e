import { Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { RunbookService, RunQueue } from '../runbooks/runbook-service.js';
import { createRedisConnection, describeRedisUrl } from '../redis/redis-connection.js';

const QUEUE = 'runbooks';

export interface BullOptions {
  url: string;
  prefix: string;
  log: Logger;
  /** How long a worker holds a job before it counts as stalled (a SIGKILLed worker); default 30 s. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/**
 * The producer side: runs become BullMQ jobs whose id is the run id, so a run is queued once however often
 * it is asked. Attempts cover a worker that could not start the run (store unreachable); a worker that died
 * mid-run is detected as stalled, and the next attempt reports the run interrupted instead of re-running steps.
 */
export function createBullRunQueue(opts: BullOptions): RunQueue {
  const connection = createRedisConnection(opts.url, 'queue');
  connection.on('error', () => undefined); // reported where it matters: enqueue fails and says so
  const queue = new Queue(QUEUE, { connection, prefix: `${opts.prefix}:bull` });
  return {
    kind: 'bullmq',
    description: `BullMQ on ${describeRedisUrl(opts.url)}`,
    async enqueue(runId) {
      await queue.add('run', { runId }, {
        jobId: runId,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: { count: 1_000 },
        removeOnFail: { age: 7 * 86_400 },
      });
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

/** A worker: `infrabot worker` runs these alone; `infrabot start` runs one in-process by default. */
export function startBullWorker(opts: BullOptions & { service: RunbookService; concurrency: number }): { close(): Promise<void> } {
  const connection = createRedisConnection(opts.url, 'worker');
  connection.on('error', (err: Error) => opts.log.warn({ err: err.message }, 'runbook worker: redis unavailable'));
  const worker = new Worker(
    QUEUE,
    async (job) => {
      const runId = (job.data as { runId?: unknown }).runId;
      if (typeof runId !== 'string') throw new UnrecoverableError('job without a run id');
      const run = await opts.service.execute(runId, { changed: (r) => void job.updateProgress({ status: r.status, version: r.version }).catch(() => undefined) });
      if (!run) throw new UnrecoverableError(`run ${runId} is not in the store`);
      return { status: run.status };
    },
    {
      connection,
      prefix: `${opts.prefix}:bull`,
      concurrency: opts.concurrency,
      maxStalledCount: 1,
      ...(opts.lockDurationMs ? { lockDuration: opts.lockDurationMs } : {}),
      ...(opts.stalledIntervalMs ? { stalledInterval: opts.stalledIntervalMs } : {}),
    },
  );
  worker.on('error', (err) => opts.log.warn({ err: err.message }, 'runbook worker error'));
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

/** Progress of runs executed anywhere (other worker processes), so this process edits their chat messages. */
export function watchBullRuns(opts: BullOptions & { changed(runId: string): void; failed(runId: string, reason: string): void }): { close(): Promise<void> } {
  const connection = createRedisConnection(opts.url, 'worker');
  connection.on('error', () => undefined);
  const events = new QueueEvents(QUEUE, { connection, prefix: `${opts.prefix}:bull` });
  events.on('progress', ({ jobId }) => opts.changed(jobId));
  events.on('completed', ({ jobId }) => opts.changed(jobId));
  events.on('failed', ({ jobId, failedReason }) => opts.failed(jobId, failedReason));
  return {
    async close() {
      await events.close();
      connection.disconnect();
    },
  };
}

/**
 * The thin path without Redis: runs execute in this process, at most `concurrency` at once, with the same
 * executor. No retries, no persistence of the queue itself (the run record is the truth: runs left running by
 * a crash are reported interrupted at the next start).
 */
export function inProcessRunQueue(opts: { service: () => RunbookService; concurrency: number; log: Logger }): RunQueue & { idle(): Promise<void> } {
  const waiting: string[] = [];
  const active = new Set<Promise<unknown>>();
  const pump = () => {
    while (active.size < opts.concurrency && waiting.length > 0) {
      const id = waiting.shift()!;
      const p = opts.service().execute(id).catch((err: unknown) => opts.log.error({ err, run: id }, 'run failed to execute'));
      active.add(p);
      void p.finally(() => {
        active.delete(p);
        pump();
      });
    }
  };
  return {
    kind: 'in-process',
    description: 'in this process (no Redis configured: runs do not survive a restart and are reported interrupted)',
    async enqueue(runId) {
      waiting.push(runId);
      pump();
    },
    async idle() {
      while (active.size > 0 || waiting.length > 0) await Promise.all([...active]);
    },
    async close() {
      waiting.length = 0;
      await Promise.all([...active]);
    },
  };
}
