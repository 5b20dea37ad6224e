import type { Logger } from 'pino';
import type { InfrabotConfig } from '../config/config-schema.js';
import { createRedisConnection } from '../redis/redis-connection.js';
import { createSqliteDb } from '../store/db/sqlite-db.js';
import { migrateSqlDb } from '../store/db/migrate-sql-db.js';
import type { SqlDb } from '../store/db/sql-db.js';
import type { HealthStore } from '../store/health-store.js';
import type { Store } from '../store/store.js';
import { createBullRunQueue, inProcessRunQueue, startBullWorker, watchBullRuns } from '../queue/runbook-queue.js';
import { redisRunLock } from '../queue/redis-run-lock.js';
import { shortId } from '../util/ids.js';
import { parseDuration } from '../util/duration.js';
import type { Clock } from '../engine/engine.js';
import { createRunMessenger, type RunMessenger } from './run-messenger.js';
import { inProcessLock } from '../engine/runbooks/run-lock.js';
import { createRunbookService, type RunbookService } from './runbook-service.js';

export interface Runbooks {
  service: RunbookService;
  messenger: RunMessenger;
  db: SqlDb;
  /** Bot process: report interrupted runs, follow runs executed elsewhere, and (by default) run a worker. */
  start(opts?: { worker?: boolean; chat?: boolean }): Promise<void>;
  /** Resolves when in-process runs and message edits are done (tests, one-shot CLI runs). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const SWEEP_MS = 30_000;

/**
 * Wires runbooks. The run records live in the bot's database (a second connection to the SQLite file until
 * the shared SqlDb store lands, or an injected SqlDb); with Redis, runs go through BullMQ and the lock is in
 * Redis, else they run in this process (the thin path) with an in-process lock.
 */
export async function createRunbooks(opts: {
  config: InfrabotConfig;
  file?: string;
  db?: SqlDb;
  store: Pick<Store, 'saveAction'>;
  health?: HealthStore;
  clock: Clock;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  pollMs?: number;
  bull?: { lockDurationMs?: number; stalledIntervalMs?: number };
  /** Adds a line to the cluster's open incident, if there is one. */
  noteIncident?: (cluster: string, text: string) => Promise<void>;
}): Promise<Runbooks> {
  const log = opts.log.child({ component: 'runbooks' });
  // The bot passes its own database (closed by the store); a worker process opens and closes one of its own.
  const owned = opts.db ? undefined : createSqliteDb({ file: opts.file ?? ':memory:' });
  const db = opts.db ?? owned!;
  if (owned) await migrateSqlDb(owned);
  const url = opts.config.redis.url;
  const lockRedis = url ? createRedisConnection(url, 'command') : undefined;
  lockRedis?.on('error', () => undefined);
  const messenger = createRunMessenger({
    db, clock: opts.clock, log,
    button: async (label, command, createdBy) => {
      const id = shortId(12);
      await opts.store.saveAction({ id, command, confirmed: false, createdBy, createdAt: opts.clock.now().toISOString() });
      return { label, actionId: id, ...(label === 'Cancel' ? { style: 'danger' as const } : { style: 'primary' as const }) };
    },
  });
  const service = createRunbookService({
    db, config: opts.config, clock: opts.clock, log, env: opts.env ?? process.env,
    lock: lockRedis ? redisRunLock(lockRedis, opts.config.redis.prefix) : inProcessLock(),
    health: async (checks) => {
      const states = (await opts.health?.checkStates()) ?? [];
      return checks.map((c) => {
        const s = states.find((x) => x.check === c);
        return { check: c, up: s?.status === 'up', ...(s?.lastLatencyMs !== undefined ? { latencyMs: s.lastLatencyMs } : {}) };
      });
    },
    changed: (run) => messenger.changed(run.id),
    followedUp: async (failed, started) => {
      await opts.noteIncident?.(failed.cluster, `↩️ ${failed.runbook} ${failed.service}${failed.params.version ? ` ${failed.params.version}` : ''} failed (${failed.error ?? 'failed'}); automatic ${started.runbook}${started.params.version ? ` to ${started.params.version}` : ''} started as ${started.id}.`)
        .catch((err: unknown) => log.warn({ err, run: failed.id }, 'could not record the automatic rollback in the incident'));
    },
    pollMs: opts.pollMs ?? parseDuration(opts.config.runbooks.poll)!,
  });
  const stalled = parseDuration(opts.config.runbooks.stalledAfter)!;
  const bullOpts = url ? { url, prefix: opts.config.redis.prefix, log, lockDurationMs: stalled, stalledIntervalMs: stalled, ...opts.bull } : undefined;
  const local = bullOpts ? undefined : inProcessRunQueue({ service: () => service, concurrency: opts.config.runbooks.concurrency, log });
  service.setQueue(bullOpts ? createBullRunQueue(bullOpts) : local!);
  const closers: { close(): Promise<void> }[] = [];
  let sweep: NodeJS.Timeout | undefined;
  return {
    service,
    messenger,
    db,
    async start(o = {}) {
      const sweepOnce = () => service.recoverInterrupted().catch((err: unknown) => log.warn({ err }, 'could not look for interrupted runs'));
      await sweepOnce();
      sweep = setInterval(() => void sweepOnce(), SWEEP_MS);
      sweep.unref();
      if (bullOpts && o.chat !== false) {
        closers.push(watchBullRuns({ ...bullOpts, changed: (id) => messenger.changed(id), failed: (id, reason) => void service.abandon(id, reason).catch(() => undefined) }));
      }
      if (bullOpts && (o.worker ?? opts.config.runbooks.inProcessWorker)) closers.push(startBullWorker({ ...bullOpts, service, concurrency: opts.config.runbooks.concurrency }));
    },
    async idle() {
      await local?.idle();
      await messenger.idle();
    },
    async stop() {
      if (sweep) clearInterval(sweep);
      for (const c of closers.splice(0)) await c.close().catch(() => undefined);
      await service.queue?.close().catch(() => undefined);
      await messenger.idle();
      lockRedis?.disconnect();
      await owned?.close();
    },
  };
}
