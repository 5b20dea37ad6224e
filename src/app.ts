import type Database from 'better-sqlite3';
import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { COMMAND_GROUPS } from '../commands/index.js';
import type { InfrabotConfig } from './config/config-schema.js';
import { createEngine, systemClock, type Clock, type Engine } from './engine/engine.js';
import { createPipeline, type Pipeline } from './framework/pipeline.js';
import { createRegistry } from './framework/registry.js';
import { createSqlStore } from './store/sql-store.js';
import { openStoreDb, type StoreLocation } from './store/store-location.js';
import type { Store } from './store/store.js';
import { createHealthMonitor, type HealthMonitor } from './engine/health-monitor.js';
import { realTimers, type Timers } from './engine/timers.js';
import { createSqlHealthStore } from './store/sql-health-store.js';
import { createControlChannel, type ControlChannel } from './engine/control-channel.js';
import { createTrafficMonitor, type TrafficMonitor } from './engine/traffic-monitor.js';
import { createRedisControlLink } from './redis/redis-control-link.js';
import { createSqlScheduleStore } from './store/sql-schedule-store.js';
import { createScheduleRunner, type ScheduleRunner } from './schedules/schedule-runner.js';
import type { ScheduleService } from './engine/schedules/schedule-services.js';
import { parseDuration } from './util/duration.js';
import { syncConfiguredSummaries } from './schedules/sync-configured-summaries.js';
import { createCheckpointer, type AuditPost } from './audit/checkpointer.js';
import { createAuditService, type AuditService } from './audit/audit-service.js';
import { sqliteReadsOffLoop } from './audit/read-off-loop.js';
import { defaultKeyDir, loadSigningKey, requireOutsideDataDir } from './audit/signing-key.js';
import { shortId } from './util/ids.js';
import { createMetrics, noMetrics, type Metrics } from './metrics/create-metrics.js';
import { startTracing } from './tracing/start-tracing.js';
import { tracePipeline } from './tracing/trace-pipeline.js';
import { traceStore } from './tracing/trace-store.js';
import { createLifecycle, type Lifecycle } from './engine/lifecycle-events.js';
import { emitAfterCommit } from './engine/emit-after-commit.js';
import { recordConfigChanges } from './engine/record-config-changes.js';
import type { Tracer } from './tracing/tracer.js';
import type { ApiKeyStore } from './store/api-key-store.js';
import { createSqlApiKeyStore } from './store/sql-api-key-store.js';
import { Redis } from 'ioredis';
import { createBillingService, type BillingService } from './billing/billing-service.js';
import './framework/services/billing.js';
import { createAdaptiveController, type AdaptiveController } from './engine/adaptive-controller.js';
import { routeAlert } from './engine/alerts/route-alert.js';
import { createRunbooks, type Runbooks } from './runbooks/start-runbooks.js';
import { latencyChartAttachment } from './framework/render/latency-chart-attachment.js';

/** How long a delivery id is remembered for duplicate detection; Slack and Discord retry within minutes. */
const INVOCATION_MEMORY_MS = 24 * 3_600_000;
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

export interface App {
  config: InfrabotConfig;
  /** The embedded SQLite database's connection, when the app runs on SQLite (the unit of work is `store.db`). */
  db?: Database.Database;
  /** Which database the store is on (DATABASE_URL, storage.url or the SQLite file). */
  storeLocation?: StoreLocation;
  store: Store;
  engine: Engine;
  pipeline: Pipeline;
  log: Logger;
  /** Health checks, alerts and incidents (on the app's database, either backend; not started until `health.start()`). */
  health?: HealthMonitor;
  /** Committed control state on its way to services: Redis (when configured), the SSE stream, in-process guards. */
  control: ControlChannel;
  /** Live traffic reported by guards, and automatic breaker trips. */
  traffic: TrafficMonitor;
  /** OpenTelemetry spans (a no-op unless `tracing.otlpEndpoint` is set). */
  tracer: Tracer;
  /** infrabot's own Prometheus metrics (served by src/http/metrics-routes.ts). */
  metrics: Metrics;
  /** The post-commit spine: subscribe to what landed (see src/engine/lifecycle-events.ts). */
  lifecycle: Lifecycle;
  /** Scheduled operations and reverts of time-limited actions (SQLite-backed; not started until `schedules.start()`). */
  schedules?: ScheduleRunner;
  /** The audit signing key, checkpoints, verification and reports (see docs/audit.md). */
  audit: AuditService & { keyDir: string; dataDir: string };
  /** API keys of the HTTP API (SQLite-backed). */
  apiKeys?: ApiKeyStore;
  /** Costs, budgets, threshold alerts and budget throttling (docs/budgets.md). */
  billing: BillingService;
  /** Adaptive rate limits from guards' reported errors and latency (docs/budgets.md). */
  adaptive: AdaptiveController;
  /** Runbooks: run records, the queue (BullMQ with Redis, else in-process) and progress messages (docs/runbooks.md). */
  runbooks: Runbooks;
  close(): Promise<void>;
}

/**
 * Where the audit key and checkpoint file live: INFRABOT_KEY_DIR / INFRABOT_WITNESS_FILE, else the config,
 * else ~/.config/infrabot/keys. Both must be outside the data directory; throws SigningKeyError otherwise.
 */
export function auditPaths(config: InfrabotConfig, dataDir: string, env: NodeJS.ProcessEnv = process.env, keyDir?: string): { keyDir: string; witnessFile: string } {
  const dir = resolve(keyDir ?? (env.INFRABOT_KEY_DIR || undefined) ?? config.audit.keyDir ?? defaultKeyDir(env));
  const witnessFile = resolve(env.INFRABOT_WITNESS_FILE || config.audit.witnessFile || join(dir, 'checkpoints.jsonl'));
  requireOutsideDataDir(witnessFile, dataDir, 'the audit checkpoint file');
  return { keyDir: dir, witnessFile };
}

export interface AppOptions {
  config: InfrabotConfig;
  /** Prometheus metrics (default on); one-shot CLI runs turn them off so prom-client is never loaded. */
  metrics?: boolean;
  dataDir: string;
  log: Logger;
  clock?: Clock;
  /** Users who are admins in this process only (the local console/CLI user). */
  localAdmins?: readonly string[];
  /** Use this store instead of opening the configured database. */
  store?: Store;
  /** Timers of the health scheduler and outbox (tests pass fakes). */
  timers?: Timers;
  /** The audit key directory (overrides INFRABOT_KEY_DIR and the config; tests use a temporary one). */
  keyDir?: string;
  env?: NodeJS.ProcessEnv;
  /** The config file's path: config changes recorded at start name it (with a hash of its defaults). */
  configFile?: string;
}

/** Wires config → store → engine → command pipeline. Adapters take the pipeline and nothing else. */
export async function createApp(opts: AppOptions): Promise<App> {
  // The key first: a key refused for its permissions stops the start before anything is opened.
  const env = opts.env ?? process.env;
  const paths = auditPaths(opts.config, opts.dataDir, env, opts.keyDir);
  const key = loadSigningKey({ keyDir: paths.keyDir, dataDir: opts.dataDir, env });
  // One unit of work for the process; every store of this app writes on it.
  const opened = opts.store ? undefined : await openStoreDb(opts.config, opts.dataDir);
  const stored = opts.store ?? (await createSqlStore({ db: opened!.db }));
  const sqlDb = stored.db;
  // The SQLite connection (SQLite-only fast paths and tests); every store writes through the unit of work `sqlDb`.
  const db = (sqlDb as { handle?: Database.Database }).handle;
  const clock = opts.clock ?? systemClock;
  let post: ((message: AuditPost) => Promise<void>) | undefined;
  const checkpointer = await createCheckpointer({
    store: stored,
    key,
    every: opts.config.audit.checkpoint.records,
    intervalMs: parseDuration(opts.config.audit.checkpoint.interval)!,
    witnessFile: paths.witnessFile,
    trusted: opts.config.audit.trustedKeys,
    post: (message) => post?.(message) ?? Promise.resolve(),
    clock,
    log: opts.log,
  });
  const publisher = opts.config.redis.url
    ? createRedisControlLink({ url: opts.config.redis.url, prefix: opts.config.redis.prefix, log: opts.log.child({ component: 'control-channel' }) })
    : undefined;
  // Set once the engine exists; commits cannot happen before that.
  let channel: ControlChannel | undefined;
  let traffic: TrafficMonitor | undefined;
  const tracer = await startTracing(opts.config.tracing, opts.log.child({ component: 'tracing' }));
  // On both backends: a command's health writes join its unit of work through the shared database.
  const healthStore = createSqlHealthStore(sqlDb);
  const metrics = opts.metrics === false ? noMetrics : await createMetrics({
    health: healthStore,
    traffic: () => traffic?.live() ?? Promise.resolve(undefined),
    redisConfigured: Boolean(opts.config.redis.url),
    lastCheckpointAt: async () => (await stored.latestCheckpoint())?.at,
    now: () => (opts.clock ?? systemClock).now().getTime(),
    log: opts.log.child({ component: 'metrics' }),
  });
  // After a commit lands, its lifecycle events feed metrics, the control channel and the checkpointer.
  const lifecycle = createLifecycle(opts.log.child({ component: 'lifecycle' }));
  lifecycle.on('command.committed', (e) => metrics.storeCommitted(e.commitMs / 1000));
  lifecycle.on('command.committed', (e) => e.state && channel?.committed(e.state));
  lifecycle.on('command.committed', (e) => checkpointer.appended(e.audit.id));
  lifecycle.on('command.finished', (e) => metrics.commandFinished(e));
  const store = emitAfterCommit(traceStore(stored, tracer), lifecycle.emit);
  const engine = createEngine({ store, config: opts.config, clock: opts.clock ?? systemClock });
  const registry = createRegistry(COMMAND_GROUPS);
  let pipeline: Pipeline | undefined;
  const health: HealthMonitor | undefined = await createHealthMonitor({
    config: opts.config, health: healthStore, store, engine, timers: opts.timers ?? realTimers, log: opts.log, observer: metrics.health, tracer,
    emit: lifecycle.emit,
    run: (command) => pipeline!.handle(command),
    latencyChart: (check, until) => latencyChartAttachment(healthStore, check, until),
  });
  channel = createControlChannel({ engine, ...(publisher ? { publisher } : {}), log: opts.log.child({ component: 'control-channel' }) });
  const control = channel;
  const apiKeys = createSqlApiKeyStore(sqlDb);
  let runner: ScheduleRunner | undefined;
  const scheduleService: ScheduleService = {
    store: createSqlScheduleStore(sqlDb),
    timezone: opts.config.schedules.timezone,
    misfireGraceMs: parseDuration(opts.config.schedules.misfireGrace) ?? 600_000,
    kick: () => runner?.kick(),
  };
  const audit = createAuditService({
    store, registry, key, witnessFile: paths.witnessFile, trustedKeys: opts.config.audit.trustedKeys, checkpointer,
    ...(apiKeys ? { apiKeys } : {}),
    // Verification walks the whole chain and a report reads up to 100k records: on the embedded file both run
    // in a worker on a read-only connection (on PostgreSQL they read on a pooled connection of their own).
    ...(db && !db.memory ? { offLoop: sqliteReadsOffLoop(db.name) } : {}),
  });
  // Costs live on the store's unit of work (SQLite or PostgreSQL), like every other table.
  const billingRedis = opts.config.redis.url ? new Redis(opts.config.redis.url, { maxRetriesPerRequest: 1, commandTimeout: 1_000, connectTimeout: 2_000 }) : undefined;
  billingRedis?.on('error', (err: Error) => opts.log.debug({ err: err.message }, 'billing: redis unavailable'));
  const billing = createBillingService({
    db: sqlDb, engine, log: opts.log.child({ component: 'billing' }),
    run: (inv) => pipeline!.handle(inv),
    ...(billingRedis ? { redis: { client: billingRedis, prefix: opts.config.redis.prefix } } : {}),
    ...(health ? { alert: (alerts) => health.receiveAlerts(alerts) } : {}),
  });
  const adaptive = createAdaptiveController({
    engine, ...(publisher ? { publisher } : {}), run: (inv) => pipeline!.handle(inv), log: opts.log.child({ component: 'adaptive' }),
    ...(health ? { announce: (cluster: string, text: string) => announceInCluster(health, opts.config, cluster, text, clock) } : {}),
  });
  // Run records live on the store's unit of work (SQLite or PostgreSQL), like every other table.
  const runbooks = await createRunbooks({
    config: opts.config, db: sqlDb, store, ...(healthStore ? { health: healthStore } : {}), clock, log: opts.log, env,
    ...(health
      ? {
          noteIncident: async (cluster: string, text: string) => {
            const open = await health.incidents.openFor(cluster);
            if (!open) return;
            const batch = {};
            await health.incidents.update(open.id, text, 'system', batch);
            await health.health.commit(batch, clock.now().toISOString());
            health.deliverer.kick();
          },
        }
      : {}),
  });
  traffic = createTrafficMonitor({ engine, ...(publisher ? { publisher } : {}), run: (inv) => pipeline!.handle(inv), log: opts.log.child({ component: 'traffic' }) });
  pipeline = tracePipeline(createPipeline({
    registry, engine, store, log: opts.log,
    lifecycle: lifecycle.emit,
    ...(opts.localAdmins ? { localAdmins: opts.localAdmins } : {}),
    services: {
      audit,
      ...(health ? { health } : {}),
      ...(scheduleService ? { schedules: scheduleService } : {}),
      control: { channel: control, traffic },
      ...(apiKeys ? { apiKeys } : {}),
      billing,
      runbooks: runbooks.service,
    },
  }), tracer, Boolean(opts.config.tracing.otlpEndpoint));
  // Before anything is published: the stored state takes on what the config now declares.
  await recordConfigChanges({ engine, store, log: opts.log, ...(opts.configFile ? { file: opts.configFile } : {}) });
  await control.start();
  traffic.start();
  billing.start();
  adaptive.start();
  {
    const { added, removed } = await sqlDb.transaction((tx) => syncConfiguredSummaries(tx, scheduleService.store, opts.config.schedules.summaries, clock.now()));
    if (added || removed) opts.log.info({ added, removed }, 'summary posts from the config brought up to date');
  }
  // Result posts go out through the health monitor's outbox deliverer.
  if (health) {
    runner = createScheduleRunner({
      pipeline: pipeline!, schedules: scheduleService.store, store, clock: opts.clock ?? systemClock,
      timers: opts.timers ?? realTimers, log: opts.log.child({ component: 'schedules' }), misfireGraceMs: scheduleService.misfireGraceMs,
      onPosted: () => health.deliverer.kick(),
    });
  }
  if (health) post = (message) => postToAuditChannels(health, opts.config, message, clock);
  // Duplicate-delivery keys and expired buttons are only needed for a while; without this they grow forever.
  const prune = () => {
    const before = new Date(clock.now().getTime() - INVOCATION_MEMORY_MS).toISOString();
    // Idempotency keys live as long as the invocation keys their replays are read from.
    return Promise.all([store.prune(before), apiKeys?.prune(before) ?? 0])
      .then(([a, b]) => a + b > 0 && opts.log.debug({ rows: a + b }, 'pruned old invocation and idempotency keys and expired buttons'))
      .catch((err: unknown) => opts.log.warn({ err }, 'pruning invocation keys failed; will try again'));
  };
  // Firing history is kept as long as alert history (health.historyRetention).
  const historyMs = parseDuration(opts.config.health.historyRetention) ?? 30 * 86_400_000;
  const pruneSchedules = () =>
    scheduleService?.store
      .prune(new Date(clock.now().getTime() - historyMs).toISOString())
      .then((n) => n > 0 && opts.log.debug({ rows: n }, 'pruned old schedule firings'))
      .catch((err: unknown) => opts.log.warn({ err }, 'pruning schedule firings failed; will try again'));
  const housekeeping = setInterval(() => void prune().then(pruneSchedules), HOUSEKEEPING_INTERVAL_MS).unref();
  return {
    config: opts.config,
    ...(db ? { db } : {}),
    ...(opened ? { storeLocation: opened.location } : {}),
    store,
    engine,
    pipeline,
    log: opts.log,
    ...(health ? { health } : {}),
    control,
    traffic,
    metrics,
    lifecycle,
    tracer,
    ...(runner ? { schedules: runner } : {}),
    audit: Object.assign(audit, { keyDir: paths.keyDir, dataDir: opts.dataDir }),
    ...(apiKeys ? { apiKeys } : {}),
    billing,
    adaptive,
    runbooks,
    close: async () => {
      clearInterval(housekeeping);
      await runbooks.stop();
      await adaptive.stop();
      await billing.stop();
      if (billingRedis) await billingRedis.quit().catch(() => billingRedis.disconnect());
      await runner?.stop();
      await checkpointer.stop();
      await traffic.stop();
      await control.stop();
      await health?.stop();
      await store.close();
      await tracer.shutdown();
    },
  };
}

/** Queues a line (a checkpoint, a state warning) for every configured audit channel on the durable outbox. */
async function postToAuditChannels(health: HealthMonitor, config: InfrabotConfig, message: AuditPost, clock: Clock): Promise<void> {
  const targets = Object.entries(config.audit.channels).filter((e): e is [string, string] => Boolean(e[1]));
  if (targets.length === 0) return;
  const at = clock.now().toISOString();
  const body = { title: message.title, text: message.text, severity: message.severity, visibility: 'channel' as const, outcome: 'ok' as const, traceId: shortId(), time: at };
  // A 'reply' job with no message to thread under is posted on its own (see the outbox deliverer).
  await health.health.commit({ outbox: targets.map(([platform, channel]) => ({ platform, channel, notificationId: message.id, op: 'reply', body })) }, at);
  health.deliverer.kick();
}

/** Posts a line in the channels the cluster's alerts go to, on the durable outbox. */
async function announceInCluster(health: HealthMonitor, config: InfrabotConfig, cluster: string, text: string, clock: Clock): Promise<void> {
  const targets = routeAlert(config.alerts, cluster, 'warning');
  if (targets.length === 0) return;
  const at = clock.now().toISOString();
  const body = { title: `Rate limits of ${cluster}`, text, severity: 'info' as const, visibility: 'channel' as const, outcome: 'ok' as const, traceId: shortId(), time: at };
  await health.health.commit({ outbox: targets.map((t) => ({ platform: t.platform, channel: t.channel, notificationId: `adapt-${shortId(10)}`, op: 'reply', body })) }, at);
  health.deliverer.kick();
}
